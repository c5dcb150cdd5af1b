"""Per-CLI configuration, command line, environment and shell-tool names.

All CLIs run headless with auto-approval, as in the paper (spec §6), with self-update, telemetry, model
catalogue fetches and sharing disabled. Each sees exactly one credential: the run's random key for the
model endpoint.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .install import BINARIES, VERSIONS
from .sandbox import AGENT_CLI_ROOT

BASE_PATH = "/usr/local/bin:/usr/bin:/bin"
MODEL_NAME = "inspect"  # the agent bridge routes this name to the sample's model


@dataclass(frozen=True)
class CliSpec:
    name: str
    context_file: str  # project-context file the system prompt and memory go into
    shell_tools: tuple[str, ...]  # tool names that run a shell command (the first is the one scripts call)
    version: str
    command_arg: str = "command"  # the shell tool's argument holding the command


SPECS = {
    "gemini-cli": CliSpec("gemini-cli", "GEMINI.md", ("run_shell_command",), VERSIONS["gemini-cli"]),
    "opencode": CliSpec("opencode", "AGENTS.md", ("bash",), VERSIONS["opencode"]),
    "claude-code": CliSpec("claude-code", "CLAUDE.md", ("Bash",), VERSIONS["claude-code"]),
    "codex": CliSpec("codex", "AGENTS.md", ("exec_command", "shell_command", "shell"), VERSIONS["codex"], "cmd"),
}

# Claude Code: everything that is not the model call is switched off (telemetry, error reports, update checks,
# feedback surveys, other non-essential traffic); every model tier maps to the bridge's model name.
CLAUDE_ENV = {
    "DISABLE_TELEMETRY": "1", "DISABLE_ERROR_REPORTING": "1", "DISABLE_AUTOUPDATER": "1",
    "DISABLE_BUG_COMMAND": "1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "CLAUDE_CODE_DISABLE_FEEDBACK_SURVEY": "1", "CLAUDE_CODE_DISABLE_TERMINAL_TITLE": "1",
    "ANTHROPIC_MODEL": MODEL_NAME, "ANTHROPIC_SMALL_FAST_MODEL": MODEL_NAME,
    "ANTHROPIC_DEFAULT_OPUS_MODEL": MODEL_NAME, "ANTHROPIC_DEFAULT_SONNET_MODEL": MODEL_NAME,
    "ANTHROPIC_DEFAULT_HAIKU_MODEL": MODEL_NAME, "SHELL": "/bin/bash",
}


def agent_cli_path(cli: str) -> str:
    """The CLI's executable as the agent's sandbox sees it (the install prefix is bound read-only there)."""
    return f"{AGENT_CLI_ROOT}/node_modules/.bin/{BINARIES[cli]}"


def prepare(cli: str, home: Path, endpoint_port: int, api_key: str, prompt: str) -> tuple[list[str], dict[str, str]]:
    """Write the CLI's settings under ``home`` (the host path of the agent's home) and return
    (argv, environment) as seen from inside the agent's sandbox."""
    base_url = f"http://127.0.0.1:{endpoint_port}"
    env = {"PATH": BASE_PATH, "HOME": "/tmp/home", "TERM": "dumb", "LANG": "C.UTF-8", "TZ": "UTC", "NO_COLOR": "1"}
    if cli == "gemini-cli":
        settings = {
            "security": {"auth": {"selectedType": "gemini-api-key"}},
            "privacy": {"usageStatisticsEnabled": False},
            "telemetry": {"enabled": False},
            "general": {"disableAutoUpdate": True, "disableUpdateNag": True},
            "tools": {"sandbox": False},
        }
        d = home / ".gemini"
        d.mkdir(parents=True, exist_ok=True)
        (d / "settings.json").write_text(json.dumps(settings, indent=2))
        env.update({"GEMINI_API_KEY": api_key, "GOOGLE_GEMINI_BASE_URL": base_url, "GEMINI_CLI_NO_RELAUNCH": "true"})
        argv = [agent_cli_path(cli), "--skip-trust", "--yolo", "-o", "json", "-m", MODEL_NAME, "-p", prompt]
        return argv, env
    if cli == "opencode":
        config = {
            "$schema": "https://opencode.ai/config.json",
            "provider": {"pp": {"npm": "@ai-sdk/openai-compatible", "name": "peerpres endpoint",
                                "options": {"baseURL": f"{base_url}/v1", "apiKey": api_key},
                                "models": {MODEL_NAME: {"name": "Inspect model", "tool_call": True}}}},
            "model": f"pp/{MODEL_NAME}", "small_model": f"pp/{MODEL_NAME}",
            "permission": {"bash": "allow", "edit": "allow", "webfetch": "allow", "external_directory": "allow"},
            "autoupdate": False, "share": "disabled",
        }
        env.update({
            "OPENCODE_CONFIG_CONTENT": json.dumps(config),
            "OPENCODE_DISABLE_MODELS_FETCH": "1", "OPENCODE_DISABLE_AUTOUPDATE": "1",
            "OPENCODE_DISABLE_LSP_DOWNLOAD": "1", "OPENCODE_DISABLE_SHARE": "1", "OPENCODE_DISABLE_DEFAULT_PLUGINS": "1",
        })
        argv = [agent_cli_path(cli), "run", "--format", "json", "-m", f"pp/{MODEL_NAME}", prompt]
        return argv, env
    if cli == "claude-code":
        settings = {"permissions": {"defaultMode": "bypassPermissions"}, "autoUpdates": False,
                    "includeCoAuthoredBy": False, "env": {}}
        d = home / ".claude"
        d.mkdir(parents=True, exist_ok=True)
        (d / "settings.json").write_text(json.dumps(settings, indent=2))
        env.update({**CLAUDE_ENV, "ANTHROPIC_BASE_URL": base_url, "ANTHROPIC_API_KEY": api_key})
        argv = [agent_cli_path(cli), "-p", "--output-format", "json", "--dangerously-skip-permissions",
                "--model", MODEL_NAME, prompt]
        return argv, env
    if cli == "codex":
        d = home / ".codex"
        d.mkdir(parents=True, exist_ok=True)
        (d / "config.toml").write_text(codex_config(base_url))
        env.update({"PP_ENDPOINT_KEY": api_key, "CODEX_HOME": f"{env['HOME']}/.codex"})
        argv = [agent_cli_path(cli), "exec", "--json", "--skip-git-repo-check",
                "--dangerously-bypass-approvals-and-sandbox", "-m", MODEL_NAME, prompt]
        return argv, env
    raise ValueError(f"unknown harness {cli!r}; supported: {', '.join(SPECS)}")


def codex_config(base_url: str) -> str:
    """Codex's config.toml: one custom provider (the endpoint, Responses API, key from PP_ENDPOINT_KEY);
    no update check, analytics, feedback or history. Its own sandbox is bypassed (argv): the run's sandbox
    is the boundary, as for the other CLIs."""
    return f"""model = "{MODEL_NAME}"
model_provider = "pp"
approval_policy = "never"
sandbox_mode = "danger-full-access"
check_for_update_on_startup = false

[model_providers.pp]
name = "peerpres endpoint"
base_url = "{base_url}/v1"
env_key = "PP_ENDPOINT_KEY"
wire_api = "responses"

[analytics]
enabled = false

[feedback]
enabled = false

[history]
persistence = "none"
"""


def parse_output(cli: str, stdout: str) -> object:
    """The CLI's JSON output: one document (gemini) or a list of JSON lines (opencode). Unparseable lines are
    kept as strings, never dropped."""
    text = stdout.strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    out: list[object] = []
    for line in text.splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            out.append(line)
    return out
