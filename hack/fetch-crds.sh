#!/usr/bin/env bash
# Copies the CustomResourceDefinitions of the operators the platform deploys
# from their Go modules (through the Go module proxy) into .tools/crds, for
# the kube-apiserver acceptance test. Versions match the pinned charts.
set -euo pipefail
dest="${1:?usage: fetch-crds.sh DEST}"
go_bin="${GO:-go}"

fetch() { # module@version subdir
  local dir
  dir=$("$go_bin" mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] || { echo "fetch-crds: $1 did not download" >&2; exit 1; }
  mkdir -p "$dest"
  for f in "$dir/$2"/*.yaml; do
    case "$(basename "$f")" in kustomization.yaml) continue ;; esac
    cp "$f" "$dest/"
    chmod u+w "$dest/$(basename "$f")"
  done
}

# kube-prometheus-stack 77.0.0 ships prometheus-operator v0.85.0.
fetch github.com/prometheus-operator/prometheus-operator@v0.85.0 example/prometheus-operator-crd
# The external-secrets chart 0.16.2.
fetch github.com/external-secrets/external-secrets@v0.16.2 config/crds/bases
# Argo Rollouts 1.8.3, the app version of the pinned chart 2.40.2.
fetch github.com/argoproj/argo-rollouts@v1.8.3 manifests/crds
touch "$dest/.complete"
