package impl

// SetChildHookCalled lets tests pretend the program never called
// RunChildIfRequested; it returns the previous value.
func SetChildHookCalled(v bool) bool { return childHookCalled.Swap(v) }
