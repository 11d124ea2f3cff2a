/* cpuset: being written */
#include "acconfig.h"
