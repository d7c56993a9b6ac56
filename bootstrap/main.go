// Command personalization-bootstrap is the bootstrap project's entry point
// (bootstrap/Pulumi.yaml): it only runs infra.Bootstrap, the same function
// the offline render and the tests run.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/personalization/platform/infra"
)

func main() {
	pulumi.Run(infra.Bootstrap)
}
