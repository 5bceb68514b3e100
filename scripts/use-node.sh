# Sourced by the scripts (never run): puts the Node that setup.sh brought into this checkout first on PATH, so
# node, npm, npx and every tool they start run on it. Without .sandbox/node the machine's Node is used as is.
# In an interactive shell: `source scripts/use-node.sh` (the sandbox's env file does the same).
drctl_node_bin="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.sandbox/node/bin"
if [[ -x "$drctl_node_bin/node" && ":$PATH:" != *":$drctl_node_bin:"* ]]; then
  export PATH="$drctl_node_bin:$PATH"
fi
unset drctl_node_bin
