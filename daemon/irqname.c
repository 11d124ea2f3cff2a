/* irqname: being written */
#include "acconfig.h"
