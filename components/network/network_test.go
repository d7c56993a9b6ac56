package network_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/personalization/platform/components/network"
	"github.com/personalization/platform/graph"
	"github.com/personalization/platform/internal/platformtest"
)

func TestNetworkPerStack(t *testing.T) {
	tests := []struct {
		stack string
		zones int
		nats  int
	}{
		{"dev", 2, 1},
		{"staging", 3, 1},
		{"production", 3, 3},
	}
	for _, tt := range tests {
		t.Run(tt.stack, func(t *testing.T) {
			g := platformtest.Render(t, tt.stack, nil)
			if got := len(g.OfType("aws:ec2/subnet:Subnet")); got != 3*tt.zones {
				t.Errorf("%d subnets, want %d (3 tiers × %d zones)", got, 3*tt.zones, tt.zones)
			}
			if got := len(g.OfType("aws:ec2/natGateway:NatGateway")); got != tt.nats {
				t.Errorf("%d NAT gateways, want %d", got, tt.nats)
			}
			if got := len(g.OfType("aws:ec2/eip:Eip")); got != tt.nats {
				t.Errorf("%d elastic IPs, want %d", got, tt.nats)
			}
			zones, ok := g.Outputs["availabilityZones"].([]any)
			if !ok || len(zones) != tt.zones {
				t.Errorf("availabilityZones output %v, want %d zones", g.Outputs["availabilityZones"], tt.zones)
			}
		})
	}
}

func TestSubnetsInsideVPCAndDisjoint(t *testing.T) {
	for _, stack := range platformtest.Stacks() {
		t.Run(stack, func(t *testing.T) {
			g := platformtest.Render(t, stack, nil)
			vpc := netip.MustParsePrefix(platformtest.One(t, g, "aws:ec2/vpc:Vpc").Input("cidrBlock").(string))
			subnets := g.OfType("aws:ec2/subnet:Subnet")
			var blocks []netip.Prefix
			zonesSeen := map[string]int{}
			for _, s := range subnets {
				b := netip.MustParsePrefix(s.Input("cidrBlock").(string))
				if !vpc.Contains(b.Addr()) || b.Bits() < vpc.Bits() {
					t.Errorf("%s (%s) lies outside the VPC %s", s.Name, b, vpc)
				}
				for _, other := range blocks {
					if b.Overlaps(other) {
						t.Errorf("%s (%s) overlaps %s", s.Name, b, other)
					}
				}
				blocks = append(blocks, b)
				zonesSeen[s.Input("availabilityZone").(string)]++
				if s.Input("mapPublicIpOnLaunch") != false {
					t.Errorf("%s maps public IPs on launch", s.Name)
				}
			}
			for zone, n := range zonesSeen {
				if n != 3 {
					t.Errorf("zone %s has %d subnets, want public, private and database", zone, n)
				}
			}
		})
	}
}

func TestPrivateSubnetsRouteThroughTheirZonesNAT(t *testing.T) {
	g := platformtest.Render(t, "production", nil)
	for i := 1; i <= 3; i++ {
		rt := g.ByURN(childURN(g, "aws:ec2/routeTable:RouteTable", "network-private-rt-az"+itoa(i)))
		if rt == nil {
			t.Fatalf("no private route table for az%d", i)
		}
		routes := rt.Input("routes").([]any)
		nat := routes[0].(map[string]any)["natGatewayId"]
		if want := "network-nat-az" + itoa(i) + "-id"; nat != want {
			t.Errorf("az%d routes through %v, want its own NAT %s", i, nat, want)
		}
	}
	db := g.ByURN(childURN(g, "aws:ec2/routeTable:RouteTable", "network-database-rt"))
	if routes, _ := db.Input("routes").([]any); len(routes) != 0 {
		t.Errorf("database subnets have routes out: %v", routes)
	}
}

func TestSubnetRoleTagsForLoadBalancers(t *testing.T) {
	g := platformtest.Render(t, "dev", nil)
	for _, s := range g.OfType("aws:ec2/subnet:Subnet") {
		tags := s.Input("tags").(map[string]any)
		tier := tags["tier"]
		_, elb := tags["kubernetes.io/role/elb"]
		_, internal := tags["kubernetes.io/role/internal-elb"]
		if elb != (tier == "public") || internal != (tier == "private") {
			t.Errorf("%s (%v): elb tag %v, internal-elb tag %v", s.Name, tier, elb, internal)
		}
	}
}

func TestFlowLogsAndEndpoint(t *testing.T) {
	for _, stack := range platformtest.Stacks() {
		t.Run(stack, func(t *testing.T) {
			g := platformtest.Render(t, stack, nil)
			group := platformtest.Child(t, g, network.TypeToken, "aws:cloudwatch/logGroup:LogGroup")
			if group.Input("retentionInDays") == nil {
				t.Error("flow log group has no retention")
			}
			fl := platformtest.One(t, g, "aws:ec2/flowLog:FlowLog")
			if fl.Input("trafficType") != "ALL" || fl.Input("vpcId") != "network-vpc-id" {
				t.Errorf("flow log: %v", fl.Inputs)
			}
			ep := platformtest.One(t, g, "aws:ec2/vpcEndpoint:VpcEndpoint")
			if ep.Input("serviceName") != "com.amazonaws.eu-west-1.s3" || ep.Input("vpcEndpointType") != "Gateway" {
				t.Errorf("s3 endpoint: %v", ep.Inputs)
			}
			sg := platformtest.One(t, g, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
			if sg.Input("ingress") != nil || sg.Input("egress") != nil {
				t.Errorf("default security group has rules: %v", sg.Inputs)
			}
		})
	}
}

// TestEveryAWSResourceIsTagged: every AWS resource is created through one of
// the stack's AWS providers, and each of them carries the three default tags.
func TestEveryAWSResourceIsTagged(t *testing.T) {
	for _, stack := range platformtest.Stacks() {
		t.Run(stack, func(t *testing.T) {
			g := platformtest.Render(t, stack, nil)
			want := map[string]string{"project": "personalization-platform", "environment": stack, "managed-by": "pulumi"}
			tagged := map[string]bool{}
			for _, provider := range g.OfType("pulumi:providers:aws") {
				for k, v := range want {
					if got, _ := provider.Lookup("defaultTags.tags." + k); got != v {
						t.Errorf("provider %s: default tag %s = %v, want %s", provider.Name, k, got, v)
					}
				}
				tagged[provider.URN] = true
			}
			for _, r := range g.Resources {
				if r.Package() == "aws" && r.Custom && !tagged[r.Provider] {
					t.Errorf("%s is not created through a tagged provider (provider %q)", r.URN, r.Provider)
				}
			}
		})
	}
}

func TestTheComponentOwnsItsChildren(t *testing.T) {
	g := platformtest.Render(t, "production", nil)
	component := platformtest.One(t, g, network.TypeToken)
	if component.Custom {
		t.Error("the network is registered as a custom resource")
	}
	types := map[string]int{}
	for _, r := range g.Children(component.URN) {
		types[r.Type]++
	}
	for _, typ := range []string{
		"aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/internetGateway:InternetGateway",
		"aws:ec2/natGateway:NatGateway", "aws:ec2/eip:Eip", "aws:ec2/routeTable:RouteTable",
		"aws:ec2/routeTableAssociation:RouteTableAssociation", "aws:ec2/flowLog:FlowLog",
		"aws:cloudwatch/logGroup:LogGroup", "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy",
		"aws:ec2/vpcEndpoint:VpcEndpoint", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
	} {
		if types[typ] == 0 {
			t.Errorf("no %s among the component's children", typ)
		}
	}
	// Nothing below the component sits deeper than one level, and nothing
	// whose URN names the component as its parent type has another parent.
	for _, r := range g.Resources {
		if r.URN != component.URN && strings.Contains(r.URN, network.TypeToken+"$") && r.Parent != component.URN {
			t.Errorf("%s has parent %q, want the network component", r.URN, r.Parent)
		}
	}
}

func childURN(g *graph.Graph, typ, name string) string {
	for _, r := range g.OfType(typ) {
		if r.Name == name {
			return r.URN
		}
	}
	return ""
}

func itoa(i int) string { return string(rune('0' + i)) }
