"""The relay bench's results file (somstack.dev.relaybench.report), from runs made up here: the
table has a row per run and says whether two instances met the target."""

from somstack.dev.relaybench import TARGET, Run, report


def test_report_has_a_row_per_run_and_judges_the_two_instance_target():
    runs = [Run("SQLite", 1, 16, 80.4, 70.0, 120.0, 400.0, 0), Run("PostgreSQL", 2, 32, TARGET + 1, 140.0, 90.0, 300.0, 2,
                                                                  {"relayers": 3.49, "anvil": 8.0})]
    text = report(runs)
    assert "| SQLite | 1 | 16 | 80 | 70 | 120 | 400 | 0 | - | - | - | - |" in text
    assert "| PostgreSQL | 2 | 32 | 151 | 140 | 90 | 300 | 2 | 3.5 | 8.0 | - | - |" in text
    assert f"at least {TARGET:.0f} accepted/s with two instances: met (151/s at best)" in text
    assert "not met (80/s" not in text
    slow = report([Run("PostgreSQL", 2, 16, 90.0, 80.0, 1.0, 2.0, 0)])
    assert "not met (90/s at best)" in slow and "shared" in slow
