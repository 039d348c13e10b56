# fleet's controller-side plugin helper: the filters, tests and lookups fleet does not implement
# itself, evaluated by Ansible's own templar.
#
# Why Ansible's templar and not the plugin function: in ansible-core 2.19 a filter or lookup
# runs inside a template context (lazy containers, markers for undefined values, trust), and
# Ansible finds it by its name among ansible.builtin, the installed collections and the
# playbook's and roles' *_plugins/ directories. Evaluating `{{ __v | NAME(...) }}` with the
# values as variables gets all of that, and Ansible's own messages, exactly as
# ansible-playbook would.
#
# Protocol: one JSON request per line on stdin, one JSON answer per line on stdout.
#   request: {"kind": "filter"|"test"|"lookup", "name": str, "value": any (filter, test),
#             "args": [any, ...], "undefined": {"INDEX": reason, ...} (lookup terms),
#             "kwargs": {...}, "variables": {...}, "plugin_dirs": [[kind, dir], ...],
#             "basedir": str|null}
#   answer:  {"ok": true, "value": any}  |  {"ok": false, "msg": str}
#   once, first: {"kind": "secrets", "secrets": [[label|null, base64 password], ...]}, the
#   run's vault secrets, which the `unvault`/`vault` plugins and vaulted files open with
# The first line written, before any request is read, is {"ready": true, "version": str}.
import json
import os
import re
import sys

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def plain(value):
    """What json cannot write itself, as the nearest JSON value."""
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    if hasattr(value, "keys") and hasattr(value, "__getitem__"):
        return {str(k): value[k] for k in value.keys()}
    if hasattr(value, "__iter__") and not isinstance(value, str):
        return list(value)
    return str(value)


def main():
    real_stdout = sys.stdout
    # Anything Ansible prints (warnings, deprecations) must not corrupt the protocol.
    sys.stdout = sys.stderr
    from ansible import release
    from ansible.parsing.dataloader import DataLoader
    from ansible.plugins import loader as plugin_loader
    from ansible.template import Templar, trust_as_template

    plugin_loader.init_plugin_loader()
    loader = DataLoader()
    added = set()

    def answer(obj):
        real_stdout.write(json.dumps(obj, default=plain) + "\n")
        real_stdout.flush()

    answer({"ready": True, "version": release.__version__})
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            if req.get("kind") == "secrets":
                set_secrets(loader, req.get("secrets") or [])
                answer({"ok": True, "value": None})
                continue
            value = evaluate(req, loader, plugin_loader, added, Templar, trust_as_template)
            answer({"ok": True, "value": json.loads(json.dumps(value, default=plain))})
        except Exception as e:  # every failure is an answer, never a dead helper
            answer({"ok": False, "msg": str(e) or type(e).__name__})


def set_secrets(loader, secrets):
    import base64
    from ansible.parsing.vault import VaultSecret

    loader.set_vault_secrets(
        [(label or "default", VaultSecret(base64.b64decode(pw))) for label, pw in secrets]
    )


def evaluate(req, loader, plugin_loader, added, Templar, trust_as_template):
    kind, name = req["kind"], req["name"]
    if kind not in ("filter", "test", "lookup") or not NAME.match(name):
        raise ValueError("not a plugin name: %r" % name)
    for plugin_kind, directory in req.get("plugin_dirs") or []:
        key = (plugin_kind, directory)
        if key not in added and os.path.isdir(directory):
            getattr(plugin_loader, plugin_kind + "_loader").add_directory(directory)
            added.add(key)
    if req.get("basedir"):
        loader.set_basedir(req["basedir"])
    variables = dict(req.get("variables") or {})
    undefined = req.get("undefined") or {}
    if kind == "lookup" and undefined:
        # Ansible hands an undefined term to a plugin that accepts markers, and fails any other
        cls = plugin_loader.lookup_loader.get(name, class_only=True)
        if cls is not None and not getattr(cls, "accept_args_markers", False):
            raise ValueError(next(iter(undefined.values())))
    names = []
    for i, arg in enumerate(req.get("args") or []):
        variables["__fleet_a%d" % i] = None if str(i) in undefined else arg
        names.append("__fleet_a%d" % i)
    variables["__fleet_k"] = req.get("kwargs") or {}
    variables["__fleet_v"] = req.get("value")
    call = ", ".join(names + ["**__fleet_k"])
    if kind == "filter":
        expr = "__fleet_v | %s(%s)" % (name, call)
    elif kind == "test":
        expr = "__fleet_v is %s(%s)" % (name, call)
    else:
        expr = "query(%r, %s)" % (name, call)
    templar = Templar(loader=loader, variables=variables)
    return templar.template(trust_as_template("{{ " + expr + " }}"))


main()
