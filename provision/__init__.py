"""The provisioner: fixes what checks find (a plan first, changes only on request, never destroys data). To come."""
