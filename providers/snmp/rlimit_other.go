//go:build !unix

package snmp

func raiseFileLimit() {}
