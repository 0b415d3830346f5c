"""Every mistyped command, name or value gives exit status 2 and one line naming the problem (and the
valid choices where there are some): never a traceback."""
import json

import pytest

from minigen.cli import main
from tests.helpers import run_cli


def run(capsys, *argv):
    code, _, err = run_cli(capsys, *argv)
    return code, err


@pytest.fixture(scope="module")
def gan_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "gan"
    assert main(["train", "gan", "--data", "ring8", "--steps", "4", "--quiet", "--no-figures", "--out", str(out)]) == 0
    return out


CASES = [
    (["zoo", "lsgn"], "unknown zoo variant 'lsgn' (did you mean 'lsgan'?); known: aae"),
    (["gradcheck", "expp"], "unknown op(s) expp (did you mean exp?); known ops: abs"),
    (["train", "vae", "--data", "nosuch"], "unknown data set 'nosuch'; choose one of: digits"),
    (["train", "gan", "--steps", "-5"], "steps must be positive, got -5"),
    (["train", "vae", "--epochs", "0"], "epochs must be positive, got 0"),
    (["train", "gan", "--set", "steps=abc"], "steps must be int"),
    (["train", "gan", "--set", "hiden=3"], "unknown setting(s) hiden; known:"),
    (["train", "gan", "--set", "pack"], "--set takes KEY=VALUE"),
    (["train", "vea"], "invalid choice 'vea' (did you mean 'vae'?); choose from"),
    (["tran"], "invalid choice 'tran' (did you mean 'train'?)"),
    (["train", "dcgan", "--set", "data=mnist"], "needs the folder of its IDX files"),
    (["train", "cgan", "--resume"], "--resume needs --out RUN"),
    (["sample", "missing-folder", "--out", "x.npy"], "no minigen run at missing-folder"),
    (["eval", "missing-folder"], "no minigen run at missing-folder"),
    (["zoo", "--check", "--seeds", "0"], "--seeds must be positive, got 0"),
    (["--threads", "0", "eval", "x"], "--threads must be positive"),
]


@pytest.mark.parametrize("argv,message", CASES, ids=[" ".join(a) for a, _ in CASES])
def test_one_line_and_status_2(capsys, argv, message):
    code, err = run(capsys, *argv)
    assert code == 2
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert message in err, err


@pytest.mark.parametrize("argv,message", [
    (["--n", "0", "--out", "{tmp}/x.npy"], "--n must be positive, got 0"),
    (["--out", "{tmp}/x.txt"], "--out must end in .npy, .png, .csv or .mid"),
    (["--label", "3", "--out", "{tmp}/x.npy"], "gan is not conditional: --label does not apply"),
    (["--out", "{tmp}/x.csv"], "--out .csv writes table rows; gan samples points: use .npy"),
    (["--out", "{run}/inside.npy"], "is inside the run folder"),
])
def test_sample_mistakes(capsys, gan_run, tmp_path, argv, message):
    argv = [a.format(tmp=tmp_path, run=gan_run) for a in argv]
    code, err = run(capsys, "sample", str(gan_run), *argv)
    assert code == 2 and len(err.splitlines()) == 1 and message in err, err


def test_resume_refuses_new_settings(capsys, gan_run):
    code, err = run(capsys, "train", "gan", "--out", str(gan_run), "--resume", "--steps", "8")
    assert code == 2 and "drop the settings given with it (steps)" in err


def test_a_damaged_checkpoint_is_one_line(capsys, gan_run, tmp_path):
    import shutil
    bad = tmp_path / "bad"
    shutil.copytree(gan_run, bad)
    (bad / "checkpoint.npz").write_bytes((bad / "checkpoint.npz").read_bytes()[:500])
    code, err = run(capsys, "eval", str(bad))
    assert code == 2 and "checkpoint.npz" in err and len(err.splitlines()) == 1


def test_a_run_of_an_older_minigen_is_explained(capsys, tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "config.json").write_text(json.dumps({"model": {"kind": "vae"}}))
    code, err = run(capsys, "eval", str(tmp_path / "old"))
    assert code == 2 and "older minigen" in err
