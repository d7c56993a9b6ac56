# The project's entry points. `make test` is the one command CI runs.
GO ?= go
STACK ?= dev

.PHONY: test vet fmt-check unit golden render fuzz bench lint tools architecture

TOOLS := $(CURDIR)/.tools
# renovate: datasource=go depName=k8s.io/kubernetes
K8S_VERSION := v1.33.0
K8S_MINOR := $(word 2,$(subst ., ,$(K8S_VERSION)))

## test: everything CI checks: formatting, vet, staticcheck, and every test
## tier, the real-server ones included (their tools are built first, once).
test: tools fmt-check vet lint unit

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

unit:
	$(GO) test -count=1 ./...

## golden: rewrite the golden files after an intended change; review the diff.
golden:
	$(GO) test ./... -update

## architecture: regenerate docs/architecture.dot and .svg from the
## production render (Graphviz's dot required).
architecture:
	$(GO) test ./render -run TestArchitecturePictureIsCurrent -update

## render: the offline plan of a stack (STACK=production make render).
render:
	$(GO) run ./cmd/platform render --stack $(STACK)

fuzz:
	$(GO) test ./stacks -run '^$$' -fuzz FuzzParse -fuzztime 60s

bench:
	$(GO) test ./render ./tfplan -run '^$$' -bench . -benchmem

lint:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

## tools: the real servers and definitions the validator tests use, built
## from their Go modules in their own modules into .tools (git-ignored).
tools: $(TOOLS)/bin/kube-apiserver $(TOOLS)/bin/etcd $(TOOLS)/crds/.complete $(TOOLS)/bin/pulumi $(TOOLS)/bin/actionlint $(TOOLS)/bin/otelcol $(TOOLS)/bin/trivy $(TOOLS)/bin/renovate-config-validator

# renovate: datasource=go depName=github.com/pulumi/pulumi/pkg/v3
PULUMI_VERSION := v3.274.1

# The Pulumi CLI for the real-engine tests, from pkg/v3 at the SDK's version.
$(TOOLS)/bin/pulumi: tools/pulumi/go.mod tools/pulumi/go.sum
	cd tools/pulumi && $(GO) build -o $@ \
		-ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$(PULUMI_VERSION)" \
		github.com/pulumi/pulumi/pkg/v3/cmd/pulumi

# Renovate's own config validator checks .github/renovate.json (npm
# registry; about a minute and 340 MB; Node 20 runs it despite the
# package's engines note).
# renovate: datasource=npm depName=renovate
RENOVATE_VERSION := 44.121.2
$(TOOLS)/bin/renovate-config-validator: Makefile
	npm install --no-audit --no-fund --loglevel=error --prefix $(TOOLS)/renovate renovate@$(RENOVATE_VERSION)
	mkdir -p $(TOOLS)/bin && ln -sf $(TOOLS)/renovate/node_modules/.bin/renovate-config-validator $@

$(TOOLS)/bin/actionlint: tools/actionlint/go.mod tools/actionlint/go.sum
	cd tools/actionlint && $(GO) build -o $@ github.com/rhysd/actionlint/cmd/actionlint

$(TOOLS)/bin/kube-apiserver: tools/kube-apiserver/go.mod tools/kube-apiserver/go.sum
	cd tools/kube-apiserver && $(GO) build -o $@ \
		-ldflags "-X k8s.io/component-base/version.gitVersion=$(K8S_VERSION) -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(K8S_MINOR) -X k8s.io/component-base/version.gitTreeState=clean" \
		k8s.io/kubernetes/cmd/kube-apiserver

# An OpenTelemetry Collector with the components the platform's collector
# configuration names, at the deployed image's version: its `validate`
# checks the rendered configuration.
$(TOOLS)/bin/otelcol: tools/otelcol/go.mod tools/otelcol/go.sum tools/otelcol/main.go
	cd tools/otelcol && $(GO) build -o $@ .

# Trivy, whose embedded checks the scanner-bridge tests hold every stack's
# exports to. Its code needs Go's JSON v2 experiment; the cold build is
# about 11 minutes and 340 MB, then the build cache makes it a relink.
$(TOOLS)/bin/trivy: tools/trivy/go.mod tools/trivy/go.sum
	cd tools/trivy && GOEXPERIMENT=jsonv2 $(GO) build -o $@ github.com/aquasecurity/trivy/cmd/trivy

$(TOOLS)/bin/etcd: tools/etcd/go.mod tools/etcd/go.sum tools/etcd/main.go
	cd tools/etcd && $(GO) build -o $@ .

$(TOOLS)/crds/.complete: hack/fetch-crds.sh
	GO=$(GO) hack/fetch-crds.sh $(TOOLS)/crds
