"""The F5 melodies fixture, its measures and the MIDI writer (checked by parsing its own bytes)."""
import numpy as np

from minigen.data import music


def test_melodies_are_seeded_and_shaped():
    m = music.melodies(n_train=20, n_test=5, seed=3)
    again = music.melodies(n_train=20, n_test=5, seed=3)
    assert m.bar_train.shape == m.prev_train.shape == (20 * 7, 16) and m.chord_train.shape == (140, 2)
    assert m.bar_test.shape == (35, 16)
    np.testing.assert_array_equal(m.bar_train, again.bar_train)
    assert not np.array_equal(m.bar_train, music.melodies(n_train=20, n_test=5, seed=4).bar_train)
    assert m.bar_train.min() >= 0 and m.bar_train.max() < 24
    np.testing.assert_array_equal(m.prev_train[1], m.bar_train[0])          # bars of one song follow on
    r = music.rolls(m.bar_train)
    assert r.shape == (140, 1, 16, 24) and (r.sum(-1) == 1).all()
    np.testing.assert_array_equal(r[:, 0].argmax(-1), m.bar_train)
    v = music.chord_vectors(np.array([[0, 0], [9, 1]]))
    assert v.shape == (2, 13) and v[0, 0] == 1 and v[1, 9] == 1 and v[1, 12] == 1 and v.sum() == 3
    assert music.chord_tones(9, 1) == (0, 4, 9) and music.chord_name(9, 1) == "Am"


def test_the_data_meets_the_bar_and_random_notes_do_not():
    m = music.melodies(n_train=60, n_test=30, seed=0)
    real = music.melody_measures(m.bar_test, m.prev_test, m.chord_test)
    assert real["chord_tones"] > 0.9 and real["in_key"] == 1.0 and real["mean_jump"] < 3.0
    rnd = np.random.default_rng(0).integers(0, 24, size=m.bar_test.shape)
    r = music.melody_measures(rnd, m.prev_test, m.chord_test)
    assert 0.15 < r["chord_tones"] < 0.35 and r["in_key"] < 0.7 and r["mean_jump"] > 6
    assert music.histogram_distance(m.bar_test, m.bar_test) == 0.0
    assert music.histogram_distance(np.zeros((2, 16), int), np.ones((2, 16), int)) == 2.0
    assert music.copy_share(m.bar_train[:10], m.bar_train) == 1.0


def test_measures_by_hand():
    bars = np.array([[0] * 8 + [2] * 4 + [1] * 4])        # C C .. D D .. C# (C major chord: C E G)
    prev = np.array([[4] * 16])
    r = music.melody_measures(bars, prev, np.array([[0, 0]]))
    assert r["chord_tones"] == 0.5 and r["in_key"] == 0.75 and r["mean_jump"] == 4.0 and r["distinct"] == 3


def test_vlq():
    assert music._vlq(0) == b"\x00" and music._vlq(0x40) == b"\x40" and music._vlq(0x7F) == b"\x7f"
    assert music._vlq(0x80) == b"\x81\x00" and music._vlq(0x3FFF) == b"\xff\x7f"
    assert music._vlq(0x200000) == b"\x81\x80\x80\x00"


def test_midi_bytes_parse_back():
    seq = [0, 0, 4, 7, 7, 7, -1, -1, 12, 23]
    data = music.midi_bytes(seq, bpm=120)
    assert data[:4] == b"MThd" and data[4:8] == b"\x00\x00\x00\x06" and data[8:10] == b"\x00\x00"   # format 0
    assert data[10:12] == b"\x00\x01" and data[14:18] == b"MTrk"
    assert int.from_bytes(data[18:22], "big") == len(data) - 22 and data.endswith(b"\xff\x2f\x00")
    m = music.read_midi(data)
    assert m["division"] == 96 and m["tempo"] == 500000 and m["tracks"] == 1
    step = 24                                               # a sixteenth note at 96 ticks per quarter
    assert m["notes"] == [(0, 2 * step, 60), (2 * step, step, 64), (3 * step, 3 * step, 67),
                          (8 * step, step, 72), (9 * step, step, 83)]
