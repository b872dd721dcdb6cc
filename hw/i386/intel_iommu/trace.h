#include "trace/trace-hw_i386_intel_iommu.h"
