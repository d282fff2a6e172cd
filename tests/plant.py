"""Plant a change in one step of an nnscratch Python function, in memory only.

plant(function, target, when, change) returns a copy of ``function`` in which the
value given to ``target`` is changed wherever ``when`` (Python code, say "l == 0")
holds: a number ``change`` is added to it; a string is Python code that gives the new
value from ``value`` (say "value * (abs(value) >= 1e-12)"). ``target`` is the left side
of an assignment or of a ``+=`` ("delta[l]", "layer.weights"), the list an append fills
("layer_input.append"), or "return" for the returned value. The source file is not
touched: the harness uses this to prove that it notices a wrong step. tests/plant.R
does the same for R.
"""

import ast
import inspect
import textwrap


def plant(function, target, when, change):
    function = inspect.unwrap(function)  # its source keeps the decorators
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    changed = change if isinstance(change, str) else f"value + {change!r}"
    planting = ast.parse(f"(lambda value: ({changed}) if {when} else value)", mode="eval").body
    planted = 0

    def add_change(value):
        nonlocal planted
        planted += 1
        return ast.Call(func=planting, args=[value], keywords=[])

    class Planter(ast.NodeTransformer):
        def visit_Assign(self, node):
            self.generic_visit(node)
            if [ast.unparse(t) for t in node.targets] == [target]:
                node.value = add_change(node.value)
            return node

        def visit_AugAssign(self, node):  # x += value
            self.generic_visit(node)
            if ast.unparse(node.target) == target:
                node.value = add_change(node.value)
            return node

        def visit_Return(self, node):
            self.generic_visit(node)
            if target == "return":
                node.value = add_change(node.value)
            return node

        def visit_Call(self, node):
            self.generic_visit(node)
            if ast.unparse(node.func) == target:
                node.args[0] = add_change(node.args[0])
            return node

    tree = ast.fix_missing_locations(Planter().visit(tree))
    if planted != 1:
        raise ValueError(f"plant: {planted} places give {target}, expected 1")
    namespace = {}
    exec(compile(tree, inspect.getsourcefile(function), "exec"), function.__globals__, namespace)
    return namespace[function.__name__]
