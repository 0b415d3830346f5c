"""The reference digit classifier: trained deterministically with minigen at first use, >= 95% on the
test digits, cached in memory and on disk (outside the source tree), and a judge that tells digits from
garbage and sees missing classes."""
import math

import numpy as np
import pytest

import minigen as mg
from minigen.data import digits
from minigen.models import classifier as C


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    mp = pytest.MonkeyPatch()
    mp.setenv("MINIGEN_CACHE_DIR", str(cache))
    mp.setattr(C, "_CACHE", {})
    # compared here, not in the test: the autouse reseed runs between a module fixture and its test
    state = mg.backend.rng().get_state()
    clf = C.reference_classifier()
    rng_untouched = mg.backend.rng().get_state() == state
    yield clf, cache, rng_untouched
    mp.undo()


def test_accuracy_at_least_95_percent_and_engine_rng_untouched(trained):
    clf, _, rng_untouched = trained
    assert clf.accuracy >= 0.95
    d = digits()
    pred = mg.to_host(clf.predict(d.x_test))
    assert (pred == d.y_test).mean() == pytest.approx(clf.accuracy)
    assert rng_untouched                                        # training used its own generator


def test_cached_in_memory_and_on_disk(trained, monkeypatch):
    clf, cache, _ = trained
    assert C.reference_classifier() is clf
    files = list(cache.glob("digits_classifier_v*.npz"))
    assert len(files) == 1
    monkeypatch.setattr(C, "_CACHE", {})
    monkeypatch.setattr(C, "_train", lambda verbose=False: pytest.fail("retrained despite the disk cache"))
    again = C.reference_classifier()
    assert again is not clf and again.accuracy == clf.accuracy
    for (k, a), (_, b) in zip(clf.state_dict().items(), again.state_dict().items()):
        np.testing.assert_array_equal(mg.to_host(a), mg.to_host(b), err_msg=k)


def test_corrupt_cache_is_retrained_and_off_disables_disk(tmp_path, monkeypatch):
    (tmp_path / f"digits_classifier_v{C.VERSION}.npz").write_bytes(b"not a checkpoint")
    monkeypatch.setenv("MINIGEN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(C, "_CACHE", {})
    stub = C.DigitClassifier(generator=mg.backend.Generator(1))
    monkeypatch.setattr(C, "_train", lambda verbose=False: stub)
    assert C.reference_classifier() is stub
    monkeypatch.setenv("MINIGEN_CACHE_DIR", "off")
    assert C.cache_dir() is None


def test_judge_digits_garbage_and_missing_classes(trained):
    clf = trained[0]
    d = digits()
    real = C.judge(d.x_test, clf)
    assert real["confident"] > 0.75 and real["classes_covered"] == 10 and real["reverse_kl"] < 0.05
    assert sum(real["all_counts"]) == 360
    noise = C.judge(np.random.default_rng(0).uniform(size=(300, 64)).astype(np.float32), clf)
    assert noise["confident"] < 0.05
    only_3_and_7 = d.x_test[(d.y_test == 3) | (d.y_test == 7)]
    j = C.judge(mg.tensor(only_3_and_7), clf)
    counts = np.array(j["class_counts"])
    assert counts[[3, 7]].sum() >= 0.95 * counts.sum() and j["classes_covered"] <= 3
    assert j["reverse_kl"] == pytest.approx(math.log(5), abs=0.15)


def test_the_recipe_trains_a_judge_for_other_image_sizes():
    """train_classifier is the reference recipe on any flattened images: 16x16 (upsampled) digits
    give a 256 -> 256 -> 128 -> 10 MLP that is as accurate, and as unimpressed by noise."""
    from minigen.data import digits
    from minigen.models.classifier import judge, train_classifier
    d = digits()

    def up(x):
        return np.kron(x.reshape(-1, 8, 8), np.ones((2, 2), np.float32)).reshape(-1, 256)
    clf = train_classifier(up(d.x_train), d.y_train, up(d.x_test), d.y_test)
    assert clf.net[0].weight.shape[1] == 256
    assert clf.accuracy >= 0.95
    noise = np.random.default_rng(0).uniform(size=(200, 256)).astype(np.float32)
    assert judge(noise, clf)["confident"] <= 0.05
