import pytest


@pytest.fixture(scope="session")
def r_session():
    """nnscratch's R implementation in the one embedded R of this test run."""
    from nnscratch.rbridge import RSession

    return RSession()
