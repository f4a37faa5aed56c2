"""Running the `somstack` CLI in-process, and the one-line error contract of its failures."""

from somstack.cli import main


def run(capsys, *argv):
    """Runs `somstack *argv` as the console script does; returns (exit code, stdout, stderr)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *fragments):
    """Exit 1, exactly one `Error: ` line and it is the last line (progress lines may come
    first), no traceback, and every fragment in that line."""
    assert code == 1
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
