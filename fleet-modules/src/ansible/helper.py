# fleet's controller-side helper: builds module payloads with Ansible's own packager.
#
# Why: a module fleet does not implement natively (a non-native ansible.builtin module, a
# collection's, a custom one from a library/ directory) must run exactly as Ansible runs it, so
# the payload is made by ansible.executor.module_common.modify_module, the function
# ansible-playbook itself uses: the AnsiballZ wrapper with the module_utils the module imports
# and its arguments inside. fleet sends the payload over its own per-host connection and runs it
# with the target's Python (pipelining, as ansible-playbook does with pipelining on).
#
# Protocol: one JSON request per line on stdin, one JSON answer per line on stdout.
#   request: {"name": str, "path": str|null, "args": {...}, "interpreter": str,
#             "module_utils": [dir, ...]}
#   answer:  {"ok": true, "payload": base64, "style": str, "path": str, "fqcn": str,
#             "args": str (the arguments file, for modules that are not AnsiballZ)}
#            {"ok": false, "msg": str}
#            {"ok": false, "action_plugin": str} (the module comes with an action plugin, which
#            must run instead: action_host.py)
# The first line written, before any request is read, is {"ready": true, "version": str}.
import base64
import json
import os
import sys
import traceback


def main():
    real_stdout = sys.stdout
    # Anything Ansible prints (warnings, deprecations) must not corrupt the protocol.
    sys.stdout = sys.stderr
    from ansible import constants as C
    from ansible import release
    from ansible.executor import module_common
    from ansible.parsing.dataloader import DataLoader
    from ansible.plugins import loader as plugin_loader
    from ansible.template import Templar

    plugin_loader.init_plugin_loader()
    templar = Templar(loader=DataLoader())
    added = set()

    def answer(obj):
        real_stdout.write(json.dumps(obj) + "\n")
        real_stdout.flush()

    answer({"ready": True, "version": release.__version__})
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            for d in req.get("module_utils") or []:
                if d not in added and os.path.isdir(d):
                    plugin_loader.module_utils_loader.add_directory(d)
                    added.add(d)
            answer(build(req, C, release, module_common, plugin_loader, templar))
        except Exception as e:  # every failure is an answer, never a dead helper
            detail = traceback.format_exc(limit=3)
            answer({"ok": False, "msg": "%s: %s" % (type(e).__name__, e), "detail": detail})


# Action plugins that only run the module of the same name in the case given: running the
# module directly is what Ansible does then.
def passes_through(fqcn, args):
    if fqcn == "ansible.builtin.uri":
        return not args.get("src")
    if fqcn == "ansible.builtin.copy":
        # with remote_src the action checks src/dest/content, then runs the module as it is
        from ansible.module_utils.parsing.convert_bool import boolean

        return boolean(args.get("remote_src", False), strict=False)
    # picks dnf or dnf5 by the host's package manager; the dnf module itself is the dnf4 one
    return fqcn == "ansible.builtin.dnf"


def build(req, C, release, module_common, plugin_loader, templar):
    name = req["name"]
    path = req.get("path")
    fqcn = name
    if not path:
        # a short name is looked up in the task's collections first, as the play's
        # `collections:` keyword makes Ansible do
        found = plugin_loader.module_loader.find_plugin_with_context(
            name, ".py", collection_list=req.get("collections") or None
        )
        if not found.resolved or not found.plugin_resolved_path:
            return {
                "ok": False,
                "msg": "couldn't resolve module/action '%s'. This often indicates a misspelling, "
                "missing collection, or incorrect module path." % name,
            }
        path = found.plugin_resolved_path
        fqcn = found.resolved_fqcn or name
        action = plugin_loader.action_loader.find_plugin_with_context(fqcn)
        if action.resolved and not passes_through(fqcn, req.get("args") or {}):
            # the action plugin runs instead (fleet's action host, action_host.py)
            return {"ok": False, "action_plugin": action.resolved_fqcn or fqcn}
    args = dict(req.get("args") or {})
    args.setdefault("_ansible_version", release.__version__)
    args.setdefault("_ansible_module_name", name)
    args.setdefault("_ansible_syslog_facility", C.DEFAULT_SYSLOG_FACILITY)
    args.setdefault("_ansible_selinux_special_fs", C.DEFAULT_SELINUX_SPECIAL_FS)
    args.setdefault("_ansible_debug", False)
    args.setdefault("_ansible_socket", None)
    args.setdefault("_ansible_shell_executable", "/bin/sh")
    args.setdefault("_ansible_keep_remote_files", False)
    args.setdefault("_ansible_tmpdir", None)
    args.setdefault("_ansible_remote_tmp", "~/.ansible/tmp")
    args.setdefault("_ansible_ignore_unknown_opts", False)
    args.setdefault("_ansible_target_log_info", None)
    args.setdefault("_ansible_tracebacks_for", [])
    task_vars = {"ansible_python_interpreter": req.get("interpreter") or "/usr/bin/python3"}
    built = module_common.modify_module(
        module_name=name,
        module_path=path,
        module_args=args,
        templar=templar,
        task_vars=task_vars,
        module_compression=C.config.get_config_value("DEFAULT_MODULE_COMPRESSION"),
    )
    answer = {
        "ok": True,
        "payload": base64.b64encode(built.b_module_data).decode("ascii"),
        "style": built.module_style,
        "path": path,
        "fqcn": fqcn,
    }
    if built.module_style != "new":
        # the module reads its arguments from a file, written as Ansible writes it
        # (ActionBase._execute_module): JSON, or k=v words for old-style modules
        if built.module_style == "old":
            import shlex

            answer["args"] = "".join("%s=%s " % (k, shlex.quote(str(v))) for k, v in args.items())
        else:
            answer["args"] = json.dumps(args)
    return answer


if __name__ == "__main__":
    main()
