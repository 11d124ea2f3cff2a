/* config: being written */
#include "acconfig.h"
