"""The test suite (a package, so tests import their helpers as `tests.fakes`)."""
