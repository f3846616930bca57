"""Student's t quantiles computed from the distribution (lengthgen.evaluation.tdist)."""

import pytest

from lengthgen.evaluation.tdist import t_cdf, t_quantile

# two-sided 95% multipliers from standard tables (four decimals)
KNOWN = {1: 12.7062, 2: 4.3027, 3: 3.1824, 5: 2.5706, 10: 2.2281, 11: 2.2010, 29: 2.0452, 30: 2.0423,
         31: 2.0395, 60: 2.0003, 100: 1.9840, 1000: 1.9623}  # fmt: skip


@pytest.mark.parametrize("df", sorted(KNOWN))
def test_quantiles_match_tables(df):
    assert t_quantile(df) == pytest.approx(KNOWN[df], abs=1e-4)


def test_more_than_thirty_degrees_is_not_the_normal_quantile():
    assert t_quantile(31) > 2.03  # a 1.96 here made intervals over 32+ seeds too narrow


def test_cdf_is_a_symmetric_distribution():
    for df in (1, 4, 40):
        assert t_cdf(0.0, df) == pytest.approx(0.5)
        assert t_cdf(1.3, df) + t_cdf(-1.3, df) == pytest.approx(1.0)
        assert t_cdf(t_quantile(df, 0.9), df) == pytest.approx(0.9)


def test_against_scipy_where_installed():
    stats = pytest.importorskip("scipy.stats")
    for df in (1, 2, 7, 33, 250):
        for level in (0.9, 0.975, 0.995):
            assert t_quantile(df, level) == pytest.approx(stats.t.ppf(level, df), rel=1e-9)


def test_bad_arguments():
    with pytest.raises(ValueError):
        t_quantile(0)
    with pytest.raises(ValueError):
        t_quantile(5, 1.0)
