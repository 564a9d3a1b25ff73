package providers

// ClassifiedError reads as Msg and matches both its Kind (ErrUnreachable,
// ErrAuth, ErrPortClosed, …) and its Cause with errors.Is, so a message can
// say what happened in plain words without repeating the kind's text.
// Kind or Cause may be nil.
type ClassifiedError struct {
	Msg   string
	Kind  error
	Cause error
}

func (e *ClassifiedError) Error() string { return e.Msg }

func (e *ClassifiedError) Unwrap() []error {
	var out []error
	for _, err := range []error{e.Kind, e.Cause} {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}
