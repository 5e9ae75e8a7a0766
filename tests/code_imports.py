"""What a file of the suite imports, read from its code with `ast` (shared by the layering and packaging
tests): imports inside functions included, a module's `if __name__ == "__main__":` block apart (its
command line, run from the checkout)."""
import ast


def _main_block(node):
    return (isinstance(node, ast.If) and isinstance(node.test, ast.Compare)
            and getattr(node.test.left, "id", None) == "__name__")


def imports(path):
    """Module names: `import a.b` gives a.b; `from a import b` gives a and a.b (b may be a module)."""
    tree = ast.parse(path.read_text())
    tree.body = [n for n in tree.body if not _main_block(n)]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module
            yield from (f"{node.module}.{a.name}" for a in node.names)
