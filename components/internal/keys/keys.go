// Package keys makes the customer-managed KMS keys the components encrypt
// their data with: rotation on, a 30-day deletion window, an alias that
// says what the key is for.
package keys

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Args describe a key.
type Args struct {
	// Alias names the key: "alias/<Alias>".
	Alias string
	// Description says what the key encrypts.
	Description string
	// Policy is the key policy; empty keeps the account-root default.
	Policy pulumi.StringInput
	// Protect protects the key: data encrypted with a deleted key is lost.
	Protect bool
}

// New makes a rotating customer-managed key and its alias. opts must carry
// the parent (and, for another region, the provider).
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*kms.Key, error) {
	key, err := kms.NewKey(ctx, name, &kms.KeyArgs{
		Description:          pulumi.String(args.Description),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(30),
		Policy:               args.Policy,
	}, append(opts, pulumi.Protect(args.Protect))...)
	if err != nil {
		return nil, fmt.Errorf("kms key %s: %w", name, err)
	}
	if _, err := kms.NewAlias(ctx, name, &kms.AliasArgs{
		Name:        pulumi.String("alias/" + args.Alias),
		TargetKeyId: key.KeyId,
	}, opts...); err != nil {
		return nil, fmt.Errorf("kms alias %s: %w", name, err)
	}
	return key, nil
}
