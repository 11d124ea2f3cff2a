/* topology_print: being written */
#include "acconfig.h"
