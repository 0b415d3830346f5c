"""The command line: global options (--backend, --threads) wherever a user puts them."""
import pytest



@pytest.mark.parametrize("argv", [["--backend", "strict", "train", "vae"], ["train", "vae", "--backend", "strict"],
                                  ["train", "--backend", "strict", "vae"]])
def test_global_options_go_before_or_after_the_command(argv):
    from minigen.cli import build_parser
    args = build_parser().parse_args(argv + ["--threads", "2"])
    assert (args.backend, args.threads, args.model) == ("strict", 2, "vae")
    assert build_parser().parse_args(["train", "vae"]).backend is None
