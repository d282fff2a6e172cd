import os

import pytest
from hypothesis import settings

# Locally, every run of the property-based cross-check explores new examples (and stores
# none: the test turns hypothesis's example database off); in CI the examples are the same
# every run, so that a submission passes or fails on its own merits.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def r_session():
    """nnscratch's R implementation in the one embedded R of this test run."""
    from nnscratch.rbridge import RSession

    return RSession()


@pytest.fixture(scope="session")
def plant(r_session):
    """tests/plant.R's nn_plant: plants a change in one step of an R function."""
    import rpy2.robjects as ro

    from cases import ROOT

    environment = ro.r["new.env"]()
    ro.r["source"](str(ROOT / "tests" / "plant.R"), local=environment)
    return environment["nn_plant"]


def pytest_terminal_summary(terminalreporter):
    """One line on the property-based cross-check, when it ran."""
    from test_properties import FOUND

    if FOUND["examples"]:
        terminalreporter.write_line(
            f"property-based cross-check: {FOUND['examples']} examples agreed at every step "
            "compared, the largest difference between Python and R "
            f"{FOUND['largest_difference']:.3g}, at most {FOUND['tolerance_used']:.1%} of the "
            f"tolerance; {FOUND['set_aside']} ({FOUND['set_aside'] / FOUND['examples']:.1%}, "
            "5% at most) set aside from the iteration where a change of one ulp in every "
            "activation and slope moved them, compared up to it; "
            f"{FOUND['diverged']} diverged with the same error in both"
        )
