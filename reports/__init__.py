"""Results of an audit: JUnit XML for CI, and the compliance report built from it."""
