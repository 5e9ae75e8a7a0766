"""The report's colours by status: one palette for the page, the matrix, the charts and the drawing."""

STRONG = {"failed": "#cf222e", "error": "#bc4c00", "waived": "#8250df", "passed": "#1a7f37",
          "skipped": "#6e7781", "not checked": "#8c959f"}
PALE = {"failed": "#ffebe9", "error": "#fff1e5", "waived": "#fbefff", "passed": "#dafbe1",
        "skipped": "#eaeef2", "not checked": "#f6f8fa"}
CELL = {"failed": "#e5534b", "error": "#e0823d", "waived": "#a475f9", "passed": "#4ac26b",
        "skipped": "#d0d7de", "not checked": "#f0f2f4"}
SEVERITY = {"critical": "#a40e26", "high": "#cf222e", "medium": "#9a6700", "low": "#57606a"}
