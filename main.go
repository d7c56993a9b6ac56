// Command personalization-platform is the Pulumi entry point named by
// Pulumi.yaml. It only runs infra.Program, the same function the offline
// render, the tests and the deploy CLI run.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/personalization/platform/infra"
)

func main() {
	pulumi.Run(infra.Program)
}
