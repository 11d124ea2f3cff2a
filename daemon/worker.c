/* worker: being written */
#include "acconfig.h"
