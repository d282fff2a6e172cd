import pytest


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
