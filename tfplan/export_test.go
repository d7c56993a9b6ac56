package tfplan

// Attribute exposes a mapping's property naming to the tests.
func Attribute(m Mapping, property string) string { return m.attribute(property) }
