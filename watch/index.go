package watch

import "strconv"

// AlertIndex is the Signal.Index of a Printer-MIB alert: where in the
// printer it is, as prtAlertGroup "." prtAlertGroupIndex ("8.2": input
// tray 2), or "" when the printer does not say.
//
// Traps and polls both use it, so that the alert a trap raised is the one
// a poll of prtAlertTable sees, and a coverClosed trap ends the coverOpen
// alert of the same cover. prtAlertIndex is no use for that: the closing
// alert has an index of its own, and a printer renumbers its table when
// it restarts.
func AlertIndex(group, groupIndex int) string {
	if group <= 0 {
		return ""
	}
	if groupIndex <= 0 {
		return strconv.Itoa(group)
	}
	return strconv.Itoa(group) + "." + strconv.Itoa(groupIndex)
}
