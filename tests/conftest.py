import sys

import pytest

# Locally, every run of the property-based cross-check explores new examples (and stores
# none: the test turns hypothesis's example database off). Where hypothesis finds a CI (the
# variable CI set, to anything, or GITHUB_ACTIONS=true and the like), it loads its own "ci"
# profile, derandomize=True: the examples are the same every run, so that a submission
# passes or fails on its own merits.


@pytest.fixture(scope="session")
def r_session():
    """nnscratch's R implementation in the one embedded R of this test process (under
    pytest-xdist, one per worker)."""
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


# Where the controller keeps the figures a worker sent.
PROPERTY_TEST = pytest.StashKey[dict]()


def pytest_sessionfinish(session):
    """A pytest-xdist worker hands the property-based cross-check's figures to the controller,
    which prints them (the test ran in the worker's process, not the controller's)."""
    if hasattr(session.config, "workeroutput") and "test_properties" in sys.modules:
        session.config.workeroutput["property_test"] = dict(sys.modules["test_properties"].FOUND)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """pytest-xdist, in the controller: keep the figures of the worker that ran the test."""
    found = getattr(node, "workeroutput", {}).get("property_test")
    if found and found["examples"]:
        node.config.stash[PROPERTY_TEST] = found


def pytest_terminal_summary(terminalreporter, config):
    """One line on the property-based cross-check, when it ran."""
    found = config.stash.get(PROPERTY_TEST, None)
    if found is None and "test_properties" in sys.modules:
        found = sys.modules["test_properties"].FOUND
    if found and found["examples"]:
        terminalreporter.write_line(
            f"property-based cross-check: {found['examples']} examples agreed at every step "
            "compared, the largest difference between Python and R "
            f"{found['largest_difference']:.3g}, at most {found['tolerance_used']:.1%} of the "
            f"tolerance; {found['set_aside']} ({found['set_aside'] / found['examples']:.1%}, "
            "5% at most) set aside from the iteration where a change of one ulp in every "
            "activation and slope moved them, compared up to it; "
            f"{found['diverged']} diverged with the same error in both"
        )
