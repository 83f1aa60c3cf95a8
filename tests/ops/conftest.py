from tests.ops.dbproxy import database_proxy  # noqa: F401 (a fixture for the tests here)
