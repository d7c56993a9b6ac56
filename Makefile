# The project's entry points. `make test` is the one command CI runs.
GO ?= go
STACK ?= dev

.PHONY: test vet fmt-check unit golden render fuzz bench lint

## test: everything CI checks: formatting, vet, staticcheck, and every test tier.
test: fmt-check vet lint unit

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

## render: the offline plan of a stack (STACK=production make render).
render:
	$(GO) run ./cmd/platform render --stack $(STACK)

fuzz:
	$(GO) test ./stacks -run '^$$' -fuzz FuzzParse -fuzztime 60s

bench:
	$(GO) test ./render -run '^$$' -bench . -benchmem

lint:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
