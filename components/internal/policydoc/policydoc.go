// Package policydoc builds IAM policy documents as typed values, so that
// components never assemble policy JSON by string concatenation and every
// document marshals the same way.
package policydoc

import (
	"encoding/json"
	"fmt"
)

// Version is the only current IAM policy language version.
const Version = "2012-10-17"

// Document is an IAM policy (or trust policy) document.
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a policy document.
type Statement struct {
	Sid       string                    `json:"Sid,omitempty"`
	Effect    string                    `json:"Effect"`
	Principal map[string]any            `json:"Principal,omitempty"`
	Action    []string                  `json:"Action"`
	Resource  []string                  `json:"Resource,omitempty"`
	Condition map[string]map[string]any `json:"Condition,omitempty"`
}

// New is a document holding the statements.
func New(statements ...Statement) Document {
	return Document{Version: Version, Statement: statements}
}

// JSON marshals the document. Marshalling a Document cannot fail; a failure
// here is a programming error, reported as such.
func (d Document) JSON() string {
	b, err := json.Marshal(d)
	if err != nil {
		panic(fmt.Sprintf("policydoc: marshal: %v", err))
	}
	return string(b)
}

// ServiceTrust is a trust policy letting an AWS service assume a role, with
// the confused-deputy guard on the account when one is given.
func ServiceTrust(service, account string) Document {
	st := Statement{
		Effect:    "Allow",
		Principal: map[string]any{"Service": service},
		Action:    []string{"sts:AssumeRole"},
	}
	if account != "" {
		st.Condition = map[string]map[string]any{"StringEquals": {"aws:SourceAccount": account}}
	}
	return New(st)
}
