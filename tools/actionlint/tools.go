//go:build tools

// Package tools pins actionlint, which the tests run over .github/workflows.
package tools

import _ "github.com/rhysd/actionlint/cmd/actionlint"
