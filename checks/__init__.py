"""One pytest check per requirement and target, parametrized from the spec."""
