/* topology: being written */
#include "acconfig.h"
