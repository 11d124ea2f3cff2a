/* irqmap: being written */
#include "acconfig.h"
