//go:build tools

// Package tools pins the Pulumi CLI the real-engine tests drive, at the
// version of the SDK the program uses: `make tools` builds it from here.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
