/* bind: being written */
#include "acconfig.h"
