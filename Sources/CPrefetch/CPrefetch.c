// CPrefetch is header-only (CPrefetch.h); SwiftPM builds a C target only from a source file.
#include "CPrefetch.h"
