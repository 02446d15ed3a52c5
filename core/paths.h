/* core/paths.h: where vlab finds itself, its images and labs, and where it
 * keeps a student's state.  Every path can be overridden by an environment
 * variable, so tests and installed copies agree on one lookup order. */
#ifndef VLAB_CORE_PATHS_H
#define VLAB_CORE_PATHS_H

#include <stddef.h>

#include "core/err.h"

#define VLAB_PATH_MAX 4096

/* The guest images, built by `make images` (images/). */
enum vlab_image {
	VLAB_IMAGE_KERNEL,    /* bzImage of the Debian cloud kernel */
	VLAB_IMAGE_INITRAMFS, /* VM initramfs: busybox + agent + virtio modules */
	VLAB_IMAGE_ROOTFS,    /* container rootfs directory (overlay lower layer) */
	VLAB_IMAGE_AGENT,     /* the probe agent as a static Linux binary */
	VLAB_IMAGE_UNIKERNEL, /* the agent linked with the library OS (ELF) */
	VLAB_IMAGE_COUNT
};

/* The vlab executable: $VLAB_SELF, else /proc/self/exe.  Used to re-execute
 * vlab for instance processes. */
int vlab_self_exe(char *buf, size_t len, struct vlab_err *err);

/* A program of vlab's own (an engine's instance program, "vlab-unikernel"):
 * beside the vlab executable, in build/ beside it (a source tree), or, for a
 * vlab outside a source tree, in VLAB_LIBDIR.
 * -1 when it is in none of them. */
int vlab_program_path(const char *name, char *buf, size_t len);

/* Folder of the images: $VLAB_IMAGES, else build/images beside the vlab
 * executable (a source tree), else the installed VLAB_LIBDIR/images. */
int vlab_image_dir(char *buf, size_t len, struct vlab_err *err);

/* Full path of one image (whether or not it exists). */
int vlab_image_path(enum vlab_image which, char *buf, size_t len, struct vlab_err *err);

/* Short name of an image ("kernel", "initramfs", ...). */
const char *vlab_image_name(enum vlab_image which);

/* Shipped labs: $VLAB_LABS, else labs/ beside the executable, else the
 * installed VLAB_DATADIR/labs. */
int vlab_labs_dir(char *buf, size_t len, struct vlab_err *err);

/* The student's own labs: $XDG_DATA_HOME/vlab/labs (~/.local/share/...). */
int vlab_user_labs_dir(char *buf, size_t len, struct vlab_err *err);

/* Workbooks: $XDG_STATE_HOME/vlab (default ~/.local/state/vlab). */
int vlab_state_dir(char *buf, size_t len, struct vlab_err *err);

/* Scratch space for running instances (overlay layers, disks, sockets):
 * $VLAB_RUNTIME_DIR, else $XDG_RUNTIME_DIR/vlab, else /run/vlab for root,
 * else /tmp/vlab-UID. */
int vlab_runtime_dir(char *buf, size_t len, struct vlab_err *err);

/* mkdir -p with the given mode for each created component. */
int vlab_mkdir_p(const char *path, unsigned mode, struct vlab_err *err);

#endif
