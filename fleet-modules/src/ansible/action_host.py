# fleet's controller-side host for Ansible action plugins.
#
# Why: some tasks are not a module but an action plugin, Python that runs on the controller and
# may run modules and commands on the target from there: a role's or playbook's own
# action_plugins/, and collection modules that come with one (the module then only runs when
# the plugin asks). Rewriting them is impossible (they are the user's code), so the plugin runs
# here, in Ansible's own classes, and whatever it does on the target comes back to fleet as a
# command to run over the host's existing connection: fleet stays the only one talking to hosts.
#
# Protocol: JSON lines. The first line written is {"ready": true, "version": str}. Then, per run:
#   fleet -> host:  {"action": str, "args": {...}, "raw_args": {...} (as the playbook wrote
#                    them), "task_vars": {...}, "check_mode": bool,
#                    "diff": bool, "no_log": bool, "verbosity": int, "remote_user": str|null,
#                    "become": bool, "become_user": str|null, "collections": [str],
#                    "action_dirs": [dir], "library_dirs": [dir], "module_utils": [dir],
#                    "basedir": str, "interpreter": str|null}
#   host -> fleet:  {"call": "exec", "cmd": str, "stdin": base64|null, "sudoable": bool}
#   fleet -> host:  {"rc": int, "stdout": base64, "stderr": base64} | {"error": str}
#   ... as many calls as the plugin makes, then
#   host -> fleet:  {"done": true, "result": {...}} | {"done": true, "error": str}
# A run never kills the host: every failure is an answer.
import base64
import json
import os
import sys
import traceback


class Unreachable(Exception):
    pass


def main():
    real_stdout = sys.stdout
    sys.stdout = sys.stderr  # what Ansible prints must not corrupt the protocol
    from ansible import release
    from ansible.plugins import loader as plugin_loader

    plugin_loader.init_plugin_loader()

    def send(obj):
        real_stdout.write(json.dumps(obj) + "\n")
        real_stdout.flush()

    def receive():
        line = sys.stdin.readline()
        if not line:
            sys.exit(0)
        return json.loads(line)

    send({"ready": True, "version": release.__version__})
    added = set()
    while True:
        req = receive()
        try:
            result = run(req, send, receive, plugin_loader, added)
        except Exception as ex:  # as ansible-playbook's TaskExecutor turns it into a result
            result = failed_result(ex)
        try:
            send({"done": True, "result": json.loads(json.dumps(result, default=plain))})
        except Exception as e:
            send({"done": True, "error": "%s: %s" % (type(e).__name__, e)})


def failed_result(ex):
    from ansible.errors import AnsibleTaskError
    from ansible._internal._errors import _error_utils

    try:
        raise AnsibleTaskError() from ex
    except AnsibleTaskError as atex:
        result = _error_utils.result_dict_from_exception(atex, accept_result_contribution=True)
    result.setdefault("changed", False)
    result["exception"] = traceback.format_exception(ex)
    result["exception"] = "".join(result["exception"])
    return result


def trusted(rendered, raw, trust):
    """The arguments as fleet rendered them, each string that is exactly as the playbook wrote it
    marked trusted as a template: Ansible trusts a playbook's own text (a plugin such as debug
    may evaluate it), never what templating produced."""
    if isinstance(rendered, str):
        return trust(rendered) if rendered == raw else rendered
    if isinstance(rendered, dict):
        raw = raw if isinstance(raw, dict) else {}
        return {k: trusted(v, raw.get(k), trust) for k, v in rendered.items()}
    if isinstance(rendered, list):
        raw = raw if isinstance(raw, list) and len(raw) == len(rendered) else [None] * len(rendered)
        return [trusted(v, r, trust) for v, r in zip(rendered, raw)]
    return rendered


def plain(value):
    """What json cannot write itself (Ansible's tagged and lazy values) as plain data."""
    from ansible.module_utils.common.text.converters import to_text

    if isinstance(value, (set, tuple, frozenset)):
        return list(value)
    if isinstance(value, bytes):
        return to_text(value, errors="surrogate_or_strict")
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, (list,)):
        return list(value)
    return str(value)


def add_dirs(req, plugin_loader, added):
    for key, loader in (
        ("action_dirs", plugin_loader.action_loader),
        ("library_dirs", plugin_loader.module_loader),
        ("module_utils", plugin_loader.module_utils_loader),
    ):
        for d in req.get(key) or []:
            if (key, d) not in added and os.path.isdir(d):
                loader.add_directory(d)
                added.add((key, d))


def connection_class():
    from ansible.plugins.connection import ConnectionBase

    class FleetConnection(ConnectionBase):
        """A connection whose every command is run by fleet over the host's own connection."""

        transport = "fleet"
        has_pipelining = True
        always_pipeline_modules = True

        def __init__(self, play_context, shell, call, options):
            super().__init__(play_context, shell=shell)
            self._call = call
            self._fleet_options = options

        def get_option(self, option, hostvars=None):
            if option in self._fleet_options:
                return self._fleet_options[option]
            raise KeyError(option)

        def is_pipelining_enabled(self, wrap_async=False):
            return not wrap_async

        def _connect(self):
            self._connected = True
            return self

        def exec_command(self, cmd, in_data=None, sudoable=True):
            answer = self._call({
                "call": "exec",
                "cmd": cmd,
                "stdin": base64.b64encode(in_data).decode("ascii") if in_data else None,
                "sudoable": bool(sudoable),
            })
            if "error" in answer:
                raise Unreachable(answer["error"])
            return (
                answer["rc"],
                base64.b64decode(answer["stdout"]),
                base64.b64decode(answer["stderr"]),
            )

        def put_file(self, in_path, out_path):
            # as OpenSSH's sftp puts a file: a new one gets the local file's permissions (less
            # the usual umask), an existing one keeps its own
            import shlex

            with open(in_path, "rb") as f:
                data = f.read()
            mode = os.stat(in_path).st_mode & 0o755
            dest = shlex.quote(out_path)
            cmd = "if [ -e %s ]; then cat > %s; else (umask 077 && cat > %s) && chmod %o %s; fi" % (
                dest, dest, dest, mode, dest)
            rc, _, err = self.exec_command(cmd, in_data=data or None, sudoable=False)
            if rc != 0:
                from ansible.errors import AnsibleError

                raise AnsibleError("failed to transfer file to %s: %s" % (out_path, err))

        def fetch_file(self, in_path, out_path):
            import shlex

            rc, out, err = self.exec_command("cat %s" % shlex.quote(in_path), sudoable=False)
            if rc != 0:
                from ansible.errors import AnsibleError

                raise AnsibleError("failed to fetch file %s: %s" % (in_path, err))
            with open(out_path, "wb") as f:
                f.write(out)

        def close(self):
            self._connected = False

    return FleetConnection


_CONNECTION = []


def run(req, send, receive, plugin_loader, added):
    from ansible.errors import AnsibleError
    from ansible.parsing.dataloader import DataLoader
    from ansible.playbook.play_context import PlayContext
    from ansible.playbook.task import Task
    from ansible.template import Templar

    add_dirs(req, plugin_loader, added)
    if not _CONNECTION:
        _CONNECTION.append(connection_class())

    def call(obj):
        send(obj)
        return receive()

    action = req["action"]
    collections = req.get("collections") or None
    loader = DataLoader()
    loader.set_basedir(req.get("basedir") or ".")
    task_vars = dict(req.get("task_vars") or {})
    if req.get("interpreter"):
        task_vars["ansible_python_interpreter"] = req["interpreter"]
    task_vars.setdefault("ansible_facts", {})
    from ansible.template import trust_as_template

    args = trusted(req.get("args") or {}, req.get("raw_args") or {}, trust_as_template)
    task = Task.load({"action": action, "args": args}, loader=loader)
    task.check_mode = bool(req.get("check_mode"))
    task.diff = bool(req.get("diff"))
    task.no_log = bool(req.get("no_log"))
    if collections:
        task.collections = collections
    play_context = PlayContext()
    play_context.check_mode = task.check_mode
    play_context.diff = task.diff
    play_context.no_log = task.no_log
    play_context.verbosity = int(req.get("verbosity") or 0)
    play_context.remote_user = req.get("remote_user")
    play_context.executable = "/bin/sh"
    play_context.pipelining = True
    shell = plugin_loader.shell_loader.get("sh")
    shell.set_options(var_options={})
    options = {"pipelining": True, "remote_user": req.get("remote_user"),
               "host": task_vars.get("inventory_hostname")}
    connection = _CONNECTION[0](play_context, shell, call, options)
    templar = Templar(loader=loader, variables=task_vars)

    # which plugin handles the action, as ansible-playbook's TaskExecutor picks it
    module = plugin_loader.module_loader.find_plugin_with_context(action, collection_list=collections)
    if module.resolved and module.action_plugin:
        handler_name = module.action_plugin
    elif plugin_loader.action_loader.has_plugin(action, collection_list=collections):
        handler_name = action
    else:
        handler_name = "ansible.legacy.normal"
        collections = None
    handler = plugin_loader.action_loader.get(
        handler_name,
        task=task,
        connection=connection,
        play_context=play_context,
        loader=loader,
        templar=templar,
        shared_loader_obj=plugin_loader,
        collection_list=collections,
    )
    if not handler:
        raise AnsibleError("the handler '%s' was not found" % handler_name)
    try:
        result = handler.run(task_vars=task_vars)
    except Unreachable as e:
        return {"unreachable": True, "msg": str(e)}
    finally:
        try:
            handler.cleanup()
        except Exception:
            pass
    return result


if __name__ == "__main__":
    main()
