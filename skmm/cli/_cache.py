"""``skmm cache info|clear``: what the embedding cache holds, per encoder configuration."""

from pathlib import Path


def _cache_folder(cache_dir):
    from ..cache import default_cache_dir

    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    if root.exists() and not root.is_dir():
        raise ValueError(
            f"cache folder {str(root)!r} is a file, not a folder; name the cache folder with "
            "--cache-dir DIR (or $SKMM_CACHE_DIR)."
        )
    return root


def namespace_table(info):
    """One row per cache namespace: its name, encoder, model, entries and MiB.

    Reads the per-namespace fields ``encoder``, ``model`` and ``summary`` when
    :func:`skmm.cache.cache_info` gives them, else the namespace's stored ``meta``.

    Examples
    --------
    >>> from skmm.cli._cache import namespace_table
    >>> info = {"namespaces": {"0123456789abcdef": {"entries": 3, "bytes": 3 * 2**20,
    ...         "meta": {"encoder": "TextEncoder", "model": "minilm"}}}}
    >>> print(namespace_table(info).to_string(index=False))
       namespace     encoder  model  entries  MiB
    0123456789ab TextEncoder minilm        3  3.0
    """
    import pandas as pd

    rows = []
    for name, ns in (info.get("namespaces") or {}).items():
        ns = ns if isinstance(ns, dict) else {}
        meta = ns.get("meta") if isinstance(ns.get("meta"), dict) else {}
        row = {
            "namespace": str(name)[:12],
            "encoder": ns.get("encoder") or meta.get("encoder") or "?",
            "model": str(ns.get("model") or meta.get("model") or ""),
            "entries": int(ns.get("entries", 0)),
            "MiB": round(ns.get("bytes", 0) / 2**20, 1),
        }
        row["settings"] = str(ns.get("summary") or "")
        rows.append(row)
    columns = ["namespace", "encoder", "model", "entries", "MiB"]
    if any(r["settings"] for r in rows):  # cache_info gives each namespace's settings
        columns.append("settings")
    return pd.DataFrame(rows, columns=columns)


def cache_command(args):
    """``skmm cache info`` prints the cache's size per namespace; ``clear`` empties it."""
    from ..cache import cache_info, clear_cache

    root = _cache_folder(args.cache_dir)
    info = cache_info(root)
    if args.action == "clear":
        clear_cache(root)
        print(
            f"Removed {info['disk_entries']} cached embeddings "
            f"({info['disk_bytes'] / 2**20:.1f} MiB) from {info['path']}"
        )
        return 0
    table = namespace_table(info)
    print(f"cache: {info['path']}")
    print(
        f"on disk: {info['disk_entries']} embeddings, {info['disk_bytes'] / 2**20:.1f} MiB "
        f"in {len(table)} encoder configurations"
    )
    if len(table):
        print(table.to_string(index=False))
    return 0
