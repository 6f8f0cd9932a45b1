// Intentionally empty: the target exists to export the kernel headers in include/.
#include "crtnetlink.h"
