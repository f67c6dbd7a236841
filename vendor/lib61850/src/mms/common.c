/* Error texts, functional constraint names, version: shared by every layer. */
#include <stdlib.h>
#include <string.h>
#include "i61.h"

const char *i61_version(void) { return "0.1.0"; }

void i61_free(void *p) { free(p); }

const char *i61_err_str(int err)
{
    switch (err) {
    case I61_OK: return "ok";
    case I61_ERR_NOT_CONNECTED: return "not connected";
    case I61_ERR_ALREADY_CONNECTED: return "already connected";
    case I61_ERR_CONNECTION_LOST: return "connection lost";
    case I61_ERR_SERVICE_NOT_SUPPORTED: return "service not supported by the server";
    case I61_ERR_CONNECTION_REJECTED: return "connection rejected";
    case I61_ERR_OUTSTANDING_CALL_LIMIT: return "outstanding call limit reached";
    case I61_ERR_INVALID_ARGUMENT: return "invalid argument";
    case I61_ERR_OBJECT_REFERENCE_INVALID: return "object reference invalid";
    case I61_ERR_UNEXPECTED_VALUE: return "unexpected value received";
    case I61_ERR_TIMEOUT: return "timeout";
    case I61_ERR_ACCESS_DENIED: return "access denied";
    case I61_ERR_OBJECT_DOES_NOT_EXIST: return "object does not exist";
    case I61_ERR_OBJECT_EXISTS: return "object exists";
    case I61_ERR_OBJECT_ACCESS_UNSUPPORTED: return "object access unsupported";
    case I61_ERR_TYPE_INCONSISTENT: return "type inconsistent";
    case I61_ERR_TEMPORARILY_UNAVAILABLE: return "temporarily unavailable";
    case I61_ERR_OBJECT_UNDEFINED: return "object undefined";
    case I61_ERR_INVALID_ADDRESS: return "invalid address";
    case I61_ERR_HARDWARE_FAULT: return "hardware fault";
    case I61_ERR_TYPE_UNSUPPORTED: return "type unsupported";
    case I61_ERR_OBJECT_ATTRIBUTE_INCONSISTENT: return "object attribute inconsistent";
    case I61_ERR_OBJECT_VALUE_INVALID: return "object value invalid";
    case I61_ERR_OBJECT_INVALIDATED: return "object invalidated";
    case I61_ERR_MALFORMED_MESSAGE: return "malformed message";
    case I61_ERR_OBJECT_CONSTRAINT_CONFLICT: return "object constraint conflict";
    case I61_ERR_SERVICE_NOT_IMPLEMENTED: return "service not implemented";
    default: return "unknown error";
    }
}

int i61_err_from_data_access_error(int dae)
{
    switch (dae) {
    case 0: return I61_ERR_OBJECT_INVALIDATED;
    case 1: return I61_ERR_HARDWARE_FAULT;
    case 2: return I61_ERR_TEMPORARILY_UNAVAILABLE;
    case 3: return I61_ERR_ACCESS_DENIED;
    case 4: return I61_ERR_OBJECT_UNDEFINED;
    case 5: return I61_ERR_INVALID_ADDRESS;
    case 6: return I61_ERR_TYPE_UNSUPPORTED;
    case 7: return I61_ERR_TYPE_INCONSISTENT;
    case 8: return I61_ERR_OBJECT_ATTRIBUTE_INCONSISTENT;
    case 9: return I61_ERR_OBJECT_ACCESS_UNSUPPORTED;
    case 10: return I61_ERR_OBJECT_DOES_NOT_EXIST;
    case 11: return I61_ERR_OBJECT_VALUE_INVALID;
    default: return I61_ERR_UNKNOWN;
    }
}

static const char *const fc_names[] = {
    "ST", "MX", "SP", "SV", "CF", "DC", "SG", "SE", "SR", "OR",
    "BL", "EX", "CO", "US", "MS", "RP", "BR", "LG", "GO"
};

const char *i61_fc_name(int fc)
{
    if (fc >= 0 && fc < (int)(sizeof fc_names / sizeof fc_names[0])) return fc_names[fc];
    return NULL;
}

int i61_fc_from_name(const char *name)
{
    if (!name) return I61_FC_NONE;
    for (size_t i = 0; i < sizeof fc_names / sizeof fc_names[0]; i++)
        if (strcmp(name, fc_names[i]) == 0) return (int)i;
    return I61_FC_NONE;
}
