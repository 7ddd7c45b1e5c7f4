"""Griffe extension: the API pages show the docstring a class has at run time.

skmm.heads writes the parameters its two heads share once and fills them into both
docstrings when the classes are defined (``skmm/heads/_docstrings.py``). Griffe reads
the source, where the docstring still says ``%(shared_parameters)s``; this takes the
filled-in text from the imported class instead, for such classes only.
"""

import importlib
import inspect
import sys
from pathlib import Path

import griffe


def _import_from_source(cls):
    """The class object, imported from the tree griffe read (not another installed copy)."""
    source = Path(cls.filepath).resolve()
    root = source.parents[len(cls.module.path.split(".")) - 1]
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    module = importlib.import_module(cls.module.path)
    if Path(module.__file__).resolve() != source:
        raise RuntimeError(
            f"{cls.module.path} imports from {module.__file__}, not {source}; build the "
            f"docs with PYTHONPATH={root}."
        )
    return getattr(module, cls.name)


class RuntimeDocstrings(griffe.Extension):
    """Replace a placeholder docstring by the imported class's ``__doc__``."""

    def on_class_instance(self, *, node, cls, agent, **kwargs):
        docstring = cls.docstring
        if docstring is None or "%(" not in docstring.value:
            return
        cls.docstring = griffe.Docstring(
            inspect.cleandoc(_import_from_source(cls).__doc__),
            lineno=docstring.lineno,
            endlineno=docstring.endlineno,
            parent=cls,
            parser=docstring.parser,
            parser_options=docstring.parser_options,
        )
