"""Static checks of the configuration repository (confs/<machine>/...) against the spec.

Entry point: confs.audit.static_findings(arch, repo_path) -> [Finding].
"""
