/*
 * Intel VT-d: transcription of the specification's register layouts
 *
 * Every register offset and field below comes from the Intel
 * Virtualization Technology for Directed I/O Architecture Specification,
 * chapter 11 ("Register Descriptions").  The rest of the device reads the
 * specification through these names only.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_I386_INTEL_IOMMU_BITS_H
#define HW_I386_INTEL_IOMMU_BITS_H

#include "hw/registerfields.h"

/* 11.4.1 Version Register */
REG32(VER, 0x00)
    FIELD(VER, MIN, 0, 4)
    FIELD(VER, MAX, 4, 4)

/* 11.4.2 Capability Register */
REG64(CAP, 0x08)
    FIELD(CAP, ND, 0, 3)          /* number of domains: 2^(4 + 2 * ND) */
    FIELD(CAP, AFL, 3, 1)
    FIELD(CAP, RWBF, 4, 1)
    FIELD(CAP, PLMR, 5, 1)
    FIELD(CAP, PHMR, 6, 1)
    FIELD(CAP, CM, 7, 1)          /* caching mode */
    FIELD(CAP, SAGAW, 8, 5)       /* supported second-stage AGAWs */
    FIELD(CAP, MGAW, 16, 6)       /* maximum guest address width - 1 */
    FIELD(CAP, ZLR, 22, 1)
    FIELD(CAP, FRO, 24, 10)       /* fault-recording offset / 16 */
    FIELD(CAP, SLLPS, 34, 4)      /* second-stage large pages: 2M, 1G */
    FIELD(CAP, PSI, 39, 1)        /* page-selective invalidation */
    FIELD(CAP, NFR, 40, 8)        /* number of fault-recording regs - 1 */
    FIELD(CAP, MAMV, 48, 6)       /* maximum address mask value */
    FIELD(CAP, DWD, 54, 1)        /* write draining */
    FIELD(CAP, DRD, 55, 1)        /* read draining */
    FIELD(CAP, FS1GP, 56, 1)      /* first-stage 1-GByte pages */
    FIELD(CAP, PI, 59, 1)         /* posted interrupts */
    FIELD(CAP, FS5LP, 60, 1)      /* first-stage 5-level paging */
    FIELD(CAP, ESIRTPS, 62, 1)
    FIELD(CAP, ESRTPS, 63, 1)

/* SAGAW bit numbers (11.4.2): which page-table depths are supported */
#define VTD_SAGAW_39BIT                 (1u << 1)   /* 3-level */
#define VTD_SAGAW_48BIT                 (1u << 2)   /* 4-level */
#define VTD_SAGAW_57BIT                 (1u << 3)   /* 5-level */

/* 11.4.3 Extended Capability Register */
REG64(ECAP, 0x10)
    FIELD(ECAP, C, 0, 1)          /* page-walk coherency */
    FIELD(ECAP, QI, 1, 1)         /* queued invalidation */
    FIELD(ECAP, DT, 2, 1)         /* device-TLB */
    FIELD(ECAP, IR, 3, 1)         /* interrupt remapping */
    FIELD(ECAP, EIM, 4, 1)        /* extended interrupt mode (x2APIC) */
    FIELD(ECAP, PT, 6, 1)         /* pass-through */
    FIELD(ECAP, SC, 7, 1)         /* snoop control */
    FIELD(ECAP, IRO, 8, 10)       /* IOTLB register offset / 16 */
    FIELD(ECAP, MHMV, 20, 4)
    FIELD(ECAP, MTS, 25, 1)
    FIELD(ECAP, NEST, 26, 1)
    FIELD(ECAP, PRS, 29, 1)
    FIELD(ECAP, ERS, 30, 1)
    FIELD(ECAP, SRS, 31, 1)
    FIELD(ECAP, NWFS, 33, 1)
    FIELD(ECAP, EAFS, 34, 1)
    FIELD(ECAP, PSS, 35, 5)       /* PASID size - 1 */
    FIELD(ECAP, PASID, 40, 1)
    FIELD(ECAP, DIT, 41, 1)
    FIELD(ECAP, PDS, 42, 1)
    FIELD(ECAP, SMTS, 43, 1)      /* scalable-mode translation */
    FIELD(ECAP, VCS, 44, 1)
    FIELD(ECAP, SSADS, 45, 1)
    FIELD(ECAP, SSTS, 46, 1)      /* second-stage translation */
    FIELD(ECAP, FSTS, 47, 1)      /* first-stage translation */
    FIELD(ECAP, SMPWCS, 48, 1)
    FIELD(ECAP, RPS, 49, 1)

/* 11.4.4.1 Global Command and 11.4.4.2 Global Status Registers */
REG32(GCMD, 0x18)
REG32(GSTS, 0x1c)
    /* Both registers share their bit layout. */
    FIELD(GSTS, CFI, 23, 1)       /* compatibility-format interrupts */
    FIELD(GSTS, SIRTP, 24, 1)     /* set interrupt remap table pointer */
    FIELD(GSTS, IRE, 25, 1)       /* interrupt remapping enable */
    FIELD(GSTS, QIE, 26, 1)       /* queued invalidation enable */
    FIELD(GSTS, WBF, 27, 1)       /* write buffer flush */
    FIELD(GSTS, EAFL, 28, 1)      /* advanced fault logging */
    FIELD(GSTS, SFL, 29, 1)       /* set fault log */
    FIELD(GSTS, SRTP, 30, 1)      /* set root table pointer */
    FIELD(GSTS, TE, 31, 1)        /* translation enable */

/* 11.4.5 Root Table Address Register */
REG64(RTADDR, 0x20)
    FIELD(RTADDR, TTM, 10, 2)     /* 00: legacy, 01: scalable mode */
    FIELD(RTADDR, RTA, 12, 52)

/* 11.4.6 Context Command Register */
REG64(CCMD, 0x28)
    FIELD(CCMD, DID, 0, 16)
    FIELD(CCMD, SID, 16, 16)
    FIELD(CCMD, FM, 32, 2)
    FIELD(CCMD, CAIG, 59, 2)      /* actual granularity */
    FIELD(CCMD, CIRG, 61, 2)      /* requested granularity */
    FIELD(CCMD, ICC, 63, 1)       /* invalidate context cache */

/* 11.4.7.1 Fault Status Register */
REG32(FSTS, 0x34)
    FIELD(FSTS, PFO, 0, 1)        /* primary fault overflow */
    FIELD(FSTS, PPF, 1, 1)        /* primary pending fault */
    FIELD(FSTS, AFO, 2, 1)
    FIELD(FSTS, APF, 3, 1)
    FIELD(FSTS, IQE, 4, 1)        /* invalidation queue error */
    FIELD(FSTS, ICE, 5, 1)        /* invalidation completion error */
    FIELD(FSTS, ITE, 6, 1)        /* invalidation time-out error */
    FIELD(FSTS, FRI, 8, 8)        /* fault record index */

/* 11.4.7.2 Fault Event Control Register (and the other event controls) */
REG32(FECTL, 0x38)
    FIELD(FECTL, IP, 30, 1)       /* interrupt pending */
    FIELD(FECTL, IM, 31, 1)       /* interrupt mask */
REG32(FEDATA, 0x3c)
REG32(FEADDR, 0x40)
REG32(FEUADDR, 0x44)

/* 11.4.7.6 Advanced Fault Log Register */
REG64(AFLOG, 0x58)

/* 11.4.8 Protected Memory Registers */
REG32(PMEN, 0x64)
    FIELD(PMEN, PRS, 0, 1)
    FIELD(PMEN, EPM, 31, 1)
REG32(PLMBASE, 0x68)
REG32(PLMLIMIT, 0x6c)
REG64(PHMBASE, 0x70)
REG64(PHMLIMIT, 0x78)

/* 11.4.9 Queued Invalidation Registers */
REG64(IQH, 0x80)
    FIELD(IQH, QH, 4, 15)         /* head, in 128-bit units */
REG64(IQT, 0x88)
    FIELD(IQT, QT, 4, 15)         /* tail, in 128-bit units */
REG64(IQA, 0x90)
    FIELD(IQA, QS, 0, 3)          /* queue size: 2^QS pages */
    FIELD(IQA, DW, 11, 1)         /* 256-bit descriptors */
    FIELD(IQA, IQA, 12, 52)
REG32(ICS, 0x9c)
    FIELD(ICS, IWC, 0, 1)         /* invalidation wait completed */
REG32(IECTL, 0xa0)
REG32(IEDATA, 0xa4)
REG32(IEADDR, 0xa8)
REG32(IEUADDR, 0xac)
REG64(IQERCD, 0xb0)
    FIELD(IQERCD, IQEI, 0, 4)
    FIELD(IQERCD, ITESID, 32, 16)
    FIELD(IQERCD, ICESID, 48, 16)

/* 11.4.10 Interrupt Remapping Table Address Register */
REG64(IRTA, 0xb8)
    FIELD(IRTA, S, 0, 4)          /* 2^(S + 1) entries */
    FIELD(IRTA, EIME, 11, 1)      /* x2APIC mode */
    FIELD(IRTA, IRTA, 12, 52)

/* 11.4.11 Page Request Queue Registers */
REG64(PQH, 0xc0)
REG64(PQT, 0xc8)
REG64(PQA, 0xd0)
REG32(PRS, 0xdc)
REG32(PECTL, 0xe0)
REG32(PEDATA, 0xe4)
REG32(PEADDR, 0xe8)
REG32(PEUADDR, 0xec)

/* 11.4.13 Virtual Command Registers (scalable mode) */
REG64(VCCAP, 0xe00)

/*
 * The IOTLB registers (11.4.4.3, 11.4.4.4) float at ECAP.IRO * 16 and the
 * fault-recording registers (11.4.7.4) at CAP.FRO * 16: their placement is
 * the device's choice, described by intel_iommu_internal.h.
 */
/* 11.4.4.3 Invalidate Address Register (offset from IRO) */
    FIELD(IVA, AM, 0, 6)          /* address mask: 2^AM pages */
    FIELD(IVA, IH, 6, 1)          /* invalidation hint */
    FIELD(IVA, ADDR, 12, 52)
/* 11.4.4.4 IOTLB Invalidate Register (offset from IRO + 8) */
    FIELD(IOTLB, DID, 32, 16)
    FIELD(IOTLB, DW, 48, 1)       /* drain writes */
    FIELD(IOTLB, DR, 49, 1)       /* drain reads */
    FIELD(IOTLB, IAIG, 57, 2)     /* actual granularity */
    FIELD(IOTLB, IIRG, 60, 2)     /* requested granularity */
    FIELD(IOTLB, IVT, 63, 1)      /* invalidate IOTLB */

/* 11.4.7.4 Fault Recording Registers: low and high quadwords */
    FIELD(FRCD_LO, FI, 12, 52)    /* faulting page address */
    FIELD(FRCD_HI, SID, 0, 16)
    FIELD(FRCD_HI, PRIV, 29, 1)   /* privilege mode requested */
    FIELD(FRCD_HI, EXE, 30, 1)    /* execute requested */
    FIELD(FRCD_HI, PP, 31, 1)     /* PASID present */
    FIELD(FRCD_HI, FR, 32, 8)     /* fault reason */
    FIELD(FRCD_HI, PV, 40, 20)    /* PASID value */
    FIELD(FRCD_HI, AT, 60, 2)
    FIELD(FRCD_HI, T1, 62, 1)     /* type bit 1 */
    FIELD(FRCD_HI, F, 63, 1)      /* fault (valid) */

/*
 * 9.1 Root Entry (legacy mode), 128 bits: only the low quadword is used.
 */
    FIELD(ROOT_LO, P, 0, 1)
    FIELD(ROOT_LO, CTP, 12, 52)   /* context-table pointer */
#define VTD_ROOT_LO_RSVD                MAKE_64BIT_MASK(1, 11)

/* 9.3 Context Entry (legacy mode), 128 bits */
    FIELD(CTX_LO, P, 0, 1)
    FIELD(CTX_LO, FPD, 1, 1)      /* fault processing disable */
    FIELD(CTX_LO, TT, 2, 2)       /* translation type */
    FIELD(CTX_LO, SSPTPTR, 12, 52) /* second-stage page-table pointer */
#define VTD_CTX_LO_RSVD                 MAKE_64BIT_MASK(4, 8)
    FIELD(CTX_HI, AW, 0, 3)       /* address width: levels - 2 */
    FIELD(CTX_HI, DID, 8, 16)
#define VTD_CTX_HI_RSVD                 (MAKE_64BIT_MASK(24, 40) | \
                                         MAKE_64BIT_MASK(3, 4))

/* Context-entry translation types (9.3) */
#define VTD_TT_UNTRANSLATED             0   /* untranslated requests only */
#define VTD_TT_DEVICE_TLB               1   /* also translation requests */
#define VTD_TT_PASS_THROUGH             2   /* untranslated, not remapped */

/* 9.8 Second-stage paging entries */
    FIELD(SSPTE, R, 0, 1)
    FIELD(SSPTE, W, 1, 1)
    FIELD(SSPTE, PS, 7, 1)        /* page size: leaf at levels 2 and 3 */
    FIELD(SSPTE, SNP, 11, 1)
    FIELD(SSPTE, ADDR, 12, 40)
    FIELD(SSPTE, TM, 62, 1)
#define VTD_SS_LEVEL_BITS               9
#define VTD_PAGE_SHIFT                  12

/*
 * 9.2 Scalable-mode root entry, 128 bits: the low quadword points at the
 * context table of devfn 0-127, the high one at that of devfn 128-255.
 */
    FIELD(SM_ROOT, P, 0, 1)
    FIELD(SM_ROOT, CTP, 12, 52)
#define VTD_SM_ROOT_RSVD                MAKE_64BIT_MASK(1, 11)
#define VTD_SM_ROOT_HALF_DEVFNS         128

/* 9.4 Scalable-mode context entry, 256 bits (quadwords 2 and 3 reserved) */
    FIELD(SM_CTX_LO, P, 0, 1)
    FIELD(SM_CTX_LO, FPD, 1, 1)
    FIELD(SM_CTX_LO, DTE, 2, 1)   /* device-TLB enable */
    FIELD(SM_CTX_LO, PASIDE, 3, 1)
    FIELD(SM_CTX_LO, PRE, 4, 1)   /* page requests */
    FIELD(SM_CTX_LO, PDTS, 9, 3)  /* directory: 2^(PDTS + 7) entries */
    FIELD(SM_CTX_LO, PDTP, 12, 52) /* PASID directory pointer */
#define VTD_SM_CTX_LO_RSVD              MAKE_64BIT_MASK(5, 4)
    FIELD(SM_CTX_HI, RID_PASID, 0, 20)
    FIELD(SM_CTX_HI, RID_PRIV, 20, 1)
#define VTD_SM_CTX_HI_RSVD              MAKE_64BIT_MASK(21, 43)
#define VTD_SM_CTX_SIZE                 32

/* 9.5 PASID directory entry: PASID[19:6] indexes the directory */
    FIELD(PDIRE, P, 0, 1)
    FIELD(PDIRE, FPD, 1, 1)
    FIELD(PDIRE, PTP, 12, 52)     /* scalable-mode PASID table pointer */
#define VTD_PDIRE_RSVD                  MAKE_64BIT_MASK(2, 10)
#define VTD_PASID_TABLE_BITS            6   /* PASID[5:0] indexes a table */

/*
 * 9.6 Scalable-mode PASID table entry, 512 bits; the device reads the
 * first three quadwords, the others hold nothing it offers.
 */
    FIELD(PASIDE0, P, 0, 1)
    FIELD(PASIDE0, FPD, 1, 1)
    FIELD(PASIDE0, AW, 2, 3)      /* second stage: levels - 2 */
    FIELD(PASIDE0, SSEE, 5, 1)
    FIELD(PASIDE0, PGTT, 6, 3)    /* PASID-granular translation type */
    FIELD(PASIDE0, SSADE, 9, 1)
    FIELD(PASIDE0, SSPTPTR, 12, 52)
#define VTD_PASIDE0_RSVD                MAKE_64BIT_MASK(10, 2)
    FIELD(PASIDE1, DID, 0, 16)
    FIELD(PASIDE1, PWSNP, 23, 1)
    FIELD(PASIDE1, PGSNP, 24, 1)
#define VTD_PASIDE1_RSVD                MAKE_64BIT_MASK(16, 7)
    FIELD(PASIDE2, SRE, 0, 1)     /* supervisor requests */
    FIELD(PASIDE2, ERE, 1, 1)     /* execute requests */
    FIELD(PASIDE2, FSPM, 2, 2)    /* first stage: 0 4-level, 1 5-level */
    FIELD(PASIDE2, WPE, 4, 1)     /* write protect for supervisor */
    FIELD(PASIDE2, NXE, 5, 1)     /* execute-disable bit in use */
    FIELD(PASIDE2, SMEP, 6, 1)
    FIELD(PASIDE2, EAFE, 7, 1)    /* extended-accessed flag */
    FIELD(PASIDE2, FSPTPTR, 12, 52)
#define VTD_PASIDE2_RSVD                MAKE_64BIT_MASK(8, 4)
#define VTD_PASID_ENTRY_SIZE            64

/* PASID-granular translation types (9.6, PGTT) */
#define VTD_PGTT_FIRST_STAGE            1
#define VTD_PGTT_SECOND_STAGE           2
#define VTD_PGTT_NESTED                 3
#define VTD_PGTT_PASS_THROUGH           4

/* 9.7 First-stage paging entries (IA-32e layout) */
    FIELD(FSPTE, P, 0, 1)
    FIELD(FSPTE, RW, 1, 1)
    FIELD(FSPTE, US, 2, 1)        /* user-accessible */
    FIELD(FSPTE, A, 5, 1)         /* accessed */
    FIELD(FSPTE, D, 6, 1)         /* dirty (leaves) */
    FIELD(FSPTE, PS, 7, 1)
    FIELD(FSPTE, XD, 63, 1)       /* execute disable (with NXE) */

/*
 * 7.1.3 Fault reasons of legacy-mode DMA remapping.  "Qualified" faults
 * (7.1.1) are the ones a context entry's FPD may suppress.
 */
#define VTD_FR_ROOT_NOT_PRESENT         0x01
#define VTD_FR_CONTEXT_NOT_PRESENT      0x02
#define VTD_FR_CONTEXT_INVALID          0x03
#define VTD_FR_ADDR_BEYOND_AW           0x04
#define VTD_FR_WRITE_DENIED             0x05
#define VTD_FR_READ_DENIED              0x06
#define VTD_FR_PAGE_TABLE_INVALID       0x07
#define VTD_FR_ROOT_TABLE_INVALID       0x08
#define VTD_FR_CONTEXT_TABLE_INVALID    0x09
#define VTD_FR_ROOT_RESERVED            0x0a
#define VTD_FR_CONTEXT_RESERVED         0x0b
#define VTD_FR_PAGE_TABLE_RESERVED      0x0c

/*
 * 7.1.3 Fault reasons of scalable-mode DMA remapping: the structure that
 * failed (root, context, PASID directory, PASID table, first or second
 * stage) and how.  Legacy reasons 0x1-0xf are not reported in this mode.
 */
#define VTD_FR_SM_ROOT_TABLE_INVALID    0x38    /* SRT.1 */
#define VTD_FR_SM_ROOT_NOT_PRESENT      0x39    /* SRT.2 */
#define VTD_FR_SM_ROOT_RESERVED         0x3a    /* SRT.3 */
#define VTD_FR_SM_CONTEXT_TABLE_INVALID 0x40    /* SCT.1 */
#define VTD_FR_SM_CONTEXT_NOT_PRESENT   0x41    /* SCT.2 */
#define VTD_FR_SM_CONTEXT_RESERVED      0x42    /* SCT.3 */
#define VTD_FR_SM_CONTEXT_INVALID       0x43    /* SCT.4 */
#define VTD_FR_SM_CONTEXT_NO_DTE        0x44    /* SCT.5 */
#define VTD_FR_SM_PASID_DISABLED        0x45    /* SCT.6: PASIDE clear */
#define VTD_FR_SM_PASID_BEYOND_PDTS     0x46    /* SCT.7 */
#define VTD_FR_SM_PDIRE_INVALID         0x50    /* SPD.1 */
#define VTD_FR_SM_PDIRE_NOT_PRESENT     0x51    /* SPD.2 */
#define VTD_FR_SM_PDIRE_RESERVED        0x52    /* SPD.3 */
#define VTD_FR_SM_PASIDE_INVALID_ADDR   0x58    /* SPT.1 */
#define VTD_FR_SM_PASIDE_NOT_PRESENT    0x59    /* SPT.2 */
#define VTD_FR_SM_PASIDE_RESERVED       0x5a    /* SPT.3 */
#define VTD_FR_SM_PASIDE_INVALID        0x5b    /* SPT.4 */
#define VTD_FR_FS_TABLE_INVALID         0x70    /* SFS.1 */
#define VTD_FR_FS_NOT_PRESENT           0x71    /* SFS.2 */
#define VTD_FR_FS_RESERVED              0x72    /* SFS.3 */
#define VTD_FR_NESTED_ROOT_DENIED       0x75    /* SFS.6: root table read */
#define VTD_FR_NESTED_ENTRY_DENIED      0x76    /* SFS.7: entry read */
#define VTD_FR_NESTED_AD_DENIED         0x77    /* SFS.8: A/D flag write */
#define VTD_FR_SS_TABLE_INVALID         0x78    /* SSS.1 */
#define VTD_FR_SS_RESERVED              0x7a    /* SSS.3 */
#define VTD_FR_SM_NOT_CANONICAL         0x80    /* SGN.1 */
#define VTD_FR_SM_USER_DENIED           0x81    /* SGN.2 */
#define VTD_FR_SM_ADDR_BEYOND_AW        0x84    /* SGN.5 */
#define VTD_FR_SM_WRITE_DENIED          0x85    /* SGN.6 */
#define VTD_FR_SM_READ_DENIED           0x86    /* SGN.7 */

/* 6.5.2 Invalidation descriptors: type in bits 3:0 (and 11:9) */
    FIELD(INV_DESC, TYPE_LO, 0, 4)
    FIELD(INV_DESC, TYPE_HI, 9, 3)
#define VTD_INV_CONTEXT_CACHE           0x1
#define VTD_INV_IOTLB                   0x2
#define VTD_INV_DEVICE_TLB              0x3
#define VTD_INV_INTERRUPT_ENTRY         0x4
#define VTD_INV_WAIT                    0x5
#define VTD_INV_PASID_IOTLB             0x6
#define VTD_INV_PASID_CACHE             0x7
#define VTD_INV_PASID_DEVICE_TLB        0x8

/* 6.5.2.1 Context-cache invalidate descriptor */
    FIELD(INV_CC, G, 4, 2)
    FIELD(INV_CC, DID, 16, 16)
    FIELD(INV_CC, SID, 32, 16)
    FIELD(INV_CC, FM, 48, 2)
/* 6.5.2.3 IOTLB invalidate descriptor */
    FIELD(INV_IOTLB, G, 4, 2)
    FIELD(INV_IOTLB, DW, 6, 1)
    FIELD(INV_IOTLB, DR, 7, 1)
    FIELD(INV_IOTLB, DID, 16, 16)
    FIELD(INV_IOTLB_HI, AM, 0, 6)
    FIELD(INV_IOTLB_HI, IH, 6, 1)
    FIELD(INV_IOTLB_HI, ADDR, 12, 52)
#define VTD_INV_CC_RSVD                 (MAKE_64BIT_MASK(6, 3) | \
                                         MAKE_64BIT_MASK(12, 4) | \
                                         MAKE_64BIT_MASK(50, 14))
#define VTD_INV_IOTLB_RSVD              (MAKE_64BIT_MASK(8, 1) | \
                                         MAKE_64BIT_MASK(12, 4) | \
                                         MAKE_64BIT_MASK(32, 32))
#define VTD_INV_IOTLB_HI_RSVD           MAKE_64BIT_MASK(7, 5)
/* 6.5.2.5 Device-TLB invalidate descriptor */
    FIELD(INV_DEV, PFSID_LO, 12, 4)
    FIELD(INV_DEV, MIP, 16, 5)    /* max invalidations pending */
    FIELD(INV_DEV, SID, 32, 16)
    FIELD(INV_DEV, PFSID_HI, 52, 12)
    FIELD(INV_DEV_HI, S, 0, 1)    /* size encoded in ADDR */
    FIELD(INV_DEV_HI, ADDR, 12, 52)
/* 6.5.2.4 PASID-based IOTLB invalidate descriptor */
    FIELD(INV_PIOTLB, G, 4, 2)    /* 2: PASID-selective, 3: pages */
    FIELD(INV_PIOTLB, DID, 16, 16)
    FIELD(INV_PIOTLB, PASID, 32, 20)
#define VTD_INV_PIOTLB_RSVD             (MAKE_64BIT_MASK(6, 3) | \
                                         MAKE_64BIT_MASK(12, 4) | \
                                         MAKE_64BIT_MASK(52, 12))
#define VTD_INV_PIOTLB_HI_RSVD          MAKE_64BIT_MASK(7, 5)
#define VTD_GRAN_PASID                  2
#define VTD_GRAN_PASID_PAGE             3
/* 6.5.2.2 PASID-cache invalidate descriptor */
    FIELD(INV_PC, G, 4, 2)        /* 0: domain, 1: PASID, 3: global */
    FIELD(INV_PC, DID, 16, 16)
    FIELD(INV_PC, PASID, 32, 20)
#define VTD_INV_PC_RSVD                 (MAKE_64BIT_MASK(6, 3) | \
                                         MAKE_64BIT_MASK(12, 4) | \
                                         MAKE_64BIT_MASK(52, 12))
#define VTD_PC_GRAN_DOMAIN              0
#define VTD_PC_GRAN_PASID               1
#define VTD_PC_GRAN_GLOBAL              3
/* 6.5.2.6 PASID-based device-TLB invalidate descriptor */
    FIELD(INV_PDEV, SID, 16, 16)
    FIELD(INV_PDEV, PASID, 32, 20)
    FIELD(INV_PDEV_HI, G, 0, 1)
    FIELD(INV_PDEV_HI, S, 11, 1)
    FIELD(INV_PDEV_HI, ADDR, 12, 52)
#define VTD_INV_PDEV_HI_RSVD            MAKE_64BIT_MASK(1, 10)
/* 6.5.2.7 Interrupt entry cache invalidate descriptor */
    FIELD(INV_IEC, G, 4, 1)       /* 0: global, 1: index-selective */
    FIELD(INV_IEC, IM, 27, 5)     /* index mask: 2^IM entries */
    FIELD(INV_IEC, IIDX, 32, 16)  /* interrupt index */
#define VTD_INV_IEC_RSVD                (MAKE_64BIT_MASK(5, 4) | \
                                         MAKE_64BIT_MASK(12, 15) | \
                                         MAKE_64BIT_MASK(48, 16))
/* 6.5.2.9 Invalidation wait descriptor */
    FIELD(INV_WAIT, IF, 4, 1)     /* interrupt on completion */
    FIELD(INV_WAIT, SW, 5, 1)     /* status write */
    FIELD(INV_WAIT, FN, 6, 1)     /* fence */
    FIELD(INV_WAIT, PD, 7, 1)
    FIELD(INV_WAIT, SDATA, 32, 32)
    FIELD(INV_WAIT_HI, SADDR, 2, 62)
#define VTD_INV_WAIT_RSVD               (MAKE_64BIT_MASK(8, 1) | \
                                         MAKE_64BIT_MASK(12, 20))
#define VTD_INV_WAIT_HI_RSVD            MAKE_64BIT_MASK(0, 2)

/* Granularities (CCMD.CIRG, IOTLB.IIRG and the descriptors' G fields) */
#define VTD_GRAN_GLOBAL                 1
#define VTD_GRAN_DOMAIN                 2
#define VTD_GRAN_DEVICE_OR_PAGE         3

/* 11.4.9.6 Invalidation queue error code: no detail reported */
#define VTD_IQEI_NO_INFO                0

/* 5.1.5.1 Interrupt Remapping Table Entry, remapped format (128 bits) */
    FIELD(IRTE_LO, P, 0, 1)
    FIELD(IRTE_LO, FPD, 1, 1)
    FIELD(IRTE_LO, DM, 2, 1)      /* destination mode */
    FIELD(IRTE_LO, RH, 3, 1)      /* redirection hint */
    FIELD(IRTE_LO, TM, 4, 1)      /* trigger mode */
    FIELD(IRTE_LO, DLM, 5, 3)     /* delivery mode */
    FIELD(IRTE_LO, IM, 15, 1)     /* IRTE mode: 1 = posted */
    FIELD(IRTE_LO, V, 16, 8)      /* vector */
    FIELD(IRTE_LO, DST, 32, 32)   /* destination id */
#define VTD_IRTE_LO_RSVD                (MAKE_64BIT_MASK(12, 3) | \
                                         MAKE_64BIT_MASK(24, 8))
    FIELD(IRTE_HI, SID, 0, 16)
    FIELD(IRTE_HI, SQ, 16, 2)     /* source-id qualifier */
    FIELD(IRTE_HI, SVT, 18, 2)    /* source validation type */
#define VTD_IRTE_HI_RSVD                MAKE_64BIT_MASK(20, 44)
#define VTD_IRTE_SIZE                   16

/* 5.1.4 Interrupt requests in remappable format (address bits) */
    FIELD(IR_ADDR, HANDLE_HI, 2, 1)   /* handle[15] */
    FIELD(IR_ADDR, SHV, 3, 1)         /* subhandle valid */
    FIELD(IR_ADDR, FORMAT, 4, 1)      /* 1: remappable */
    FIELD(IR_ADDR, HANDLE, 5, 15)     /* handle[14:0] */

/* 7.1.3 Interrupt-remapping fault reasons */
#define VTD_FR_IR_REQ_RESERVED          0x20
#define VTD_FR_IR_INDEX_OVER            0x21
#define VTD_FR_IR_ENTRY_NOT_PRESENT     0x22
#define VTD_FR_IR_TABLE_INVALID         0x23
#define VTD_FR_IR_ENTRY_RESERVED        0x24
#define VTD_FR_IR_COMPAT_BLOCKED        0x25
#define VTD_FR_IR_SID_MISMATCH          0x26

#endif
